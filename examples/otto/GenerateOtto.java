import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes Otto-shaped CSVs (the real Kaggle files cannot be downloaded here): train.csv with
 * id, feat_1..feat_93 non-negative counts and target Class_1..Class_9 in Otto's class balance, and
 * test.csv without target.
 *
 * <p>Each class has a sparse vector of gamma-distributed Poisson rates. Each row mixes its class's
 * rates with those of a random "confuser" class, scales them by a row intensity and draws Poisson
 * counts, so the classes overlap (learnable, not trivially) and most counts are zero, as in Otto.
 *
 * <p>Run: {@code java examples/otto/GenerateOtto.java TRAIN_ROWS TEST_ROWS SEED OUT_DIR}.
 */
public final class GenerateOtto {
  static final int FEATURES = 93;
  /** Otto's training rows per class (61,878 in all). */
  static final int[] OTTO_COUNTS = {1929, 16122, 8004, 2691, 2739, 14135, 2839, 8464, 4955};

  public static void main(String[] args) throws IOException {
    int trainRows = args.length > 0 ? Integer.parseInt(args[0]) : 61878;
    int testRows = args.length > 1 ? Integer.parseInt(args[1]) : 10000;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 1;
    Path out = Path.of(args.length > 3 ? args[3] : ".");
    Files.createDirectories(out);
    Random r = new Random(seed);
    double[][] rates = new double[9][FEATURES];
    for (int c = 0; c < 9; c++) {
      for (int j = 0; j < FEATURES; j++) {
        rates[c][j] = r.nextDouble() < 0.35 ? gamma(r, 0.6) * 1.5 : 0.02 * r.nextDouble();
      }
    }
    write(out.resolve("train.csv"), trainRows, r, rates, true);
    write(out.resolve("test.csv"), testRows, r, rates, false);
  }

  static void write(Path file, int rows, Random r, double[][] rates, boolean withTarget) throws IOException {
    int total = 0;
    for (int n : OTTO_COUNTS) {
      total += n;
    }
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      w.write("id");
      for (int j = 1; j <= FEATURES; j++) {
        w.write(",feat_" + j);
      }
      w.write(withTarget ? ",target\n" : "\n");
      for (int i = 0; i < rows; i++) {
        int c = pick(r, total);
        int confuser = (c + 1 + r.nextInt(8)) % 9;
        double mix = 0.7 * r.nextDouble();
        double intensity = gamma(r, 2.0) * 0.6;
        StringBuilder line = new StringBuilder().append(i + 1);
        for (int j = 0; j < FEATURES; j++) {
          double rate = intensity * ((1 - mix) * rates[c][j] + mix * rates[confuser][j]);
          line.append(',').append(poisson(r, rate));
        }
        if (withTarget) {
          line.append(",Class_").append(c + 1);
        }
        w.write(line.append('\n').toString());
      }
    }
  }

  static int pick(Random r, int total) {
    int x = r.nextInt(total);
    for (int c = 0; c < 9; c++) {
      x -= OTTO_COUNTS[c];
      if (x < 0) {
        return c;
      }
    }
    return 8;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1). */
  static double gamma(Random r, double shape) {
    if (shape < 1) {
      return gamma(r, shape + 1) * Math.pow(r.nextDouble(), 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x = r.nextGaussian();
      double v = Math.pow(1 + c * x, 3);
      if (v > 0 && Math.log(r.nextDouble()) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
        return d * v;
      }
    }
  }

  static int poisson(Random r, double lambda) {
    if (lambda > 30) {
      return (int) Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.nextGaussian()));
    }
    double l = Math.exp(-lambda);
    int k = 0;
    double p = 1;
    do {
      k++;
      p *= r.nextDouble();
    } while (p > l);
    return k - 1;
  }
}
