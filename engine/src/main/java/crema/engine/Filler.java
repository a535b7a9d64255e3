package crema.engine;

import caffe.Caffe.FillerParameter;
import java.util.Arrays;

/** Caffe's fillers: initial values for parameter blobs and DummyData tops. */
public final class Filler {
  private Filler() {}

  /**
   * Fills {@code blob} as {@code p} says, drawing from {@code rng} (the generator of the net the
   * blob belongs to); an unknown type fails, naming it.
   */
  public static void fill(FillerParameter p, Blob blob, Rng rng) {
    float[] d = blob.data();
    int n = blob.count();
    switch (p.getType()) {
      case "constant" -> Arrays.fill(d, 0, n, p.getValue());
      case "uniform" -> uniform(d, n, p.getMin(), p.getMax(), rng);
      case "gaussian" -> {
        for (int i = 0; i < n; i++) {
          d[i] = rng.gaussian(p.getMean(), p.getStd());
        }
        if (p.getSparse() >= 0) {
          requireAxes(blob, 2, "sparse gaussian");
          int numOutputs = blob.shape(0);
          float nonZeroProbability = (float) p.getSparse() / numOutputs;
          for (int i = 0; i < n; i++) {
            if (rng.uniform(0, 1) >= nonZeroProbability) {
              d[i] = 0;
            }
          }
        }
      }
      case "positive_unitball" -> {
        uniform(d, n, 0, 1, rng);
        int num = blob.shape(0);
        int dim = n / num;
        for (int i = 0; i < num; i++) {
          float sum = 0;
          for (int j = 0; j < dim; j++) {
            sum += d[i * dim + j];
          }
          for (int j = 0; j < dim; j++) {
            d[i * dim + j] /= sum;
          }
        }
      }
      case "xavier" -> {
        float scale = (float) Math.sqrt(3.0 / fan(p, blob));
        uniform(d, n, -scale, scale, rng);
      }
      case "msra" -> {
        float std = (float) Math.sqrt(2.0 / fan(p, blob));
        for (int i = 0; i < n; i++) {
          d[i] = rng.gaussian(0, std);
        }
      }
      case "bilinear" -> {
        requireAxes(blob, 4, "bilinear");
        if (blob.shape(2) != blob.shape(3)) {
          throw new IllegalArgumentException("bilinear filler needs a square kernel, got " + blob.shapeString());
        }
        int k = blob.shape(3);
        int f = (k + 1) / 2;
        float c = (k - 1) / (2f * f);
        for (int i = 0; i < n; i++) {
          float x = i % k;
          float y = (i / k) % k;
          d[i] = (1 - Math.abs(x / f - c)) * (1 - Math.abs(y / f - c));
        }
      }
      default -> throw new IllegalArgumentException("Unknown filler name: " + p.getType()
          + " (known: constant, uniform, gaussian, positive_unitball, xavier, msra, bilinear)");
    }
  }

  private static void uniform(float[] d, int n, float a, float b, Rng rng) {
    if (a > b) {
      throw new IllegalArgumentException("uniform filler needs min <= max, got " + a + " > " + b);
    }
    for (int i = 0; i < n; i++) {
      d[i] = rng.uniform(a, b);
    }
  }

  private static void requireAxes(Blob blob, int axes, String what) {
    if (blob.numAxes() < axes) {
      throw new IllegalArgumentException(what + " filler needs a blob of at least " + axes
          + " axes, got " + blob.shapeString());
    }
  }

  /** n for xavier and msra: fan_in = count/shape[0], fan_out = count/shape[1]. */
  static double fan(FillerParameter p, Blob blob) {
    int count = blob.count();
    double fanIn = (double) count / blob.shape(0);
    double fanOut = blob.numAxes() > 1 ? (double) count / blob.shape(1) : count;
    return switch (p.getVarianceNorm()) {
      case FAN_IN -> fanIn;
      case FAN_OUT -> fanOut;
      case AVERAGE -> (fanIn + fanOut) / 2;
    };
  }
}
