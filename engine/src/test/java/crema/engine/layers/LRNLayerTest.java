package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import crema.engine.NetException;
import java.util.List;
import org.junit.jupiter.api.Test;

class LRNLayerTest {
  private static List<Blob> run(String proto, Blob bottom) {
    Layer layer = layer(proto);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    return top;
  }

  private static void assertClose(double expected, float actual, String where) {
    assertEquals(expected, actual, 1e-5 * Math.max(1, Math.abs(expected)), where);
  }

  @Test
  void acrossChannelsIsXTimesKPlusAlphaOverNSumOfSquaresToTheMinusBeta() {
    int n = 2, c = 7, h = 3, w = 2;
    Blob x = gaussian(21, 1.5, n, c, h, w);
    for (int size : new int[] {1, 3, 5, 9}) {
      double alpha = 0.7, beta = 0.75, k = 2;
      Blob top = run("type: 'LRN' lrn_param { local_size: " + size + " alpha: " + alpha + " beta: "
          + beta + " k: " + k + " }", x).get(0);
      assertArrayEquals(x.shape(), top.shape());
      for (int in = 0; in < n; in++) {
        for (int ic = 0; ic < c; ic++) {
          for (int i = 0; i < h * w; i++) {
            double sum = 0;
            for (int j = ic - (size - 1) / 2; j <= ic + (size - 1) / 2; j++) {
              if (j >= 0 && j < c) {
                double v = x.data()[(in * c + j) * h * w + i];
                sum += v * v;
              }
            }
            int at = (in * c + ic) * h * w + i;
            assertClose(x.data()[at] * Math.pow(k + alpha / size * sum, -beta), top.data()[at],
                "size " + size + " element " + at);
          }
        }
      }
    }
  }

  @Test
  void withinChannelDividesTheZeroPaddedWindowSumBySizeSquaredAndIgnoresK() {
    int n = 2, c = 2, h = 5, w = 4;
    Blob x = gaussian(22, 1.5, n, c, h, w);
    for (int size : new int[] {1, 3, 5}) {
      double alpha = 0.9, beta = 0.6;
      Blob top = run("type: 'LRN' lrn_param { norm_region: WITHIN_CHANNEL local_size: " + size
          + " alpha: " + alpha + " beta: " + beta + " k: 7 }", x).get(0);
      assertArrayEquals(x.shape(), top.shape());
      int r = (size - 1) / 2;
      for (int p = 0; p < n * c; p++) {
        for (int y = 0; y < h; y++) {
          for (int z = 0; z < w; z++) {
            double sum = 0;
            for (int yy = y - r; yy <= y + r; yy++) {
              for (int zz = z - r; zz <= z + r; zz++) {
                if (yy >= 0 && yy < h && zz >= 0 && zz < w) {
                  double v = x.data()[p * h * w + yy * w + zz];
                  sum += v * v;
                }
              }
            }
            int at = p * h * w + y * w + z;
            assertClose(x.data()[at] * Math.pow(1 + alpha * sum / (size * size), -beta),
                top.data()[at], "size " + size + " element " + at);
          }
        }
      }
    }
  }

  @Test
  void gradientAcrossChannels() {
    for (String p : new String[] {"local_size: 3 alpha: 0.5 beta: 0.75 k: 1",
        "local_size: 5 alpha: 1 beta: 0.75 k: 2", "local_size: 9 alpha: 2 beta: 1.5 k: 1"}) {
      GradientChecker checker = new GradientChecker(1e-2, 1e-2);
      checker.checkExhaustive(layer("type: 'LRN' lrn_param { " + p + " }"),
          list(gaussian(23, 1, 2, 7, 3, 3)), tops(1), -1);
      assertChecked(checker);
    }
  }

  @Test
  void gradientWithinChannel() {
    for (String p : new String[] {"local_size: 3", "local_size: 5 alpha: 2 beta: 0.5",
        "local_size: 3 alpha: 1 beta: -2"}) {
      GradientChecker checker = new GradientChecker(1e-2, 1e-2);
      checker.checkExhaustive(layer("type: 'LRN' lrn_param { norm_region: WITHIN_CHANNEL " + p + " }"),
          list(gaussian(24, 1, 2, 2, 4, 5)), tops(1), -1);
      assertChecked(checker);
    }
  }

  @Test
  void evenLocalSizeAndOtherThanFourAxesAreRejected() {
    Layer even = layer("name: 'norm1' type: 'LRN' lrn_param { local_size: 4 }");
    NetException e = assertThrows(NetException.class,
        () -> even.setUp(list(new Blob(1, 5, 3, 3)), tops(1)));
    assertTrue(e.getMessage().contains("norm1") && e.getMessage().contains("odd"), e.getMessage());
    Layer flat = layer("name: 'norm2' type: 'LRN'");
    e = assertThrows(NetException.class, () -> flat.setUp(list(new Blob(2, 5)), tops(1)));
    assertTrue(e.getMessage().contains("norm2") && e.getMessage().contains("4 axes"), e.getMessage());
  }
}
