package crema.ingest;

import java.util.Arrays;

/**
 * Per-feature count, min, max, mean and sum of squared deviations of an upload's accepted rows,
 * for the schema's statistics. Each parse thread adds its chunk's rows to a moments of its own
 * (sums of deviations from the chunk's first row, which keeps the variance exact to rounding
 * without a division per value), and the request's thread merges the chunks in line order with
 * Chan et al.'s pairwise formula: the per-row work is spread over the parse threads, and the
 * request's thread does a few operations per feature per chunk. (A running mean on the request's
 * thread, a division per value per row, was most of that thread's time.)
 */
final class FeatureMoments {
  private final int features;
  private long n;
  /** The first row added: the shift of the sums. */
  private double[] shift;
  private double[] sum;
  private double[] sumSquares;
  private final double[] min;
  private final double[] max;
  /** Set once merged into: a total's mean and M2 (the shifted sums are a chunk's). */
  private double[] mean;
  private double[] m2;

  FeatureMoments(int features) {
    this.features = features;
    this.min = new double[features];
    this.max = new double[features];
    Arrays.fill(min, Double.POSITIVE_INFINITY);
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
  }

  /** One row's features (a parse thread's chunk). */
  void add(float[] x) {
    if (shift == null) {
      shift = new double[features];
      sum = new double[features];
      sumSquares = new double[features];
      for (int j = 0; j < features; j++) {
        shift[j] = x[j];
      }
    }
    n++;
    for (int j = 0; j < features; j++) {
      double v = x[j];
      // Plain comparisons, not Math.min/max: their NaN and -0.0 handling is wasted on finite features.
      if (v < min[j]) {
        min[j] = v;
      }
      if (v > max[j]) {
        max[j] = v;
      }
      double d = v - shift[j];
      sum[j] += d;
      sumSquares[j] += d * d;
    }
  }

  /** Adds {@code chunk}'s rows to this total. */
  void merge(FeatureMoments chunk) {
    long nb = chunk.n;
    if (nb == 0) {
      return;
    }
    if (mean == null) {
      mean = new double[features];
      m2 = new double[features];
    }
    long total = n + nb;
    for (int j = 0; j < features; j++) {
      double meanB = chunk.shift[j] + chunk.sum[j] / nb;
      double m2B = Math.max(0, chunk.sumSquares[j] - chunk.sum[j] * chunk.sum[j] / nb);
      double delta = meanB - mean[j];
      mean[j] += delta * nb / total;
      m2[j] += m2B + delta * delta * ((double) n * nb / total);
      if (chunk.min[j] < min[j]) {
        min[j] = chunk.min[j];
      }
      if (chunk.max[j] > max[j]) {
        max[j] = chunk.max[j];
      }
    }
    n = total;
  }

  long count() {
    return n;
  }

  double min(int j) {
    return n > 0 ? min[j] : 0;
  }

  double max(int j) {
    return n > 0 ? max[j] : 0;
  }

  double mean(int j) {
    return mean == null ? 0 : mean[j];
  }

  /** The sample standard deviation (n − 1), 0 for fewer than two rows. */
  double std(int j) {
    return n > 1 ? Math.sqrt(m2[j] / (n - 1)) : 0;
  }
}
