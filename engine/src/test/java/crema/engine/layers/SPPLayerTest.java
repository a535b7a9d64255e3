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

class SPPLayerTest {
  private static List<Blob> run(String proto, Blob bottom) {
    Layer layer = layer(proto);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    return top;
  }

  /** Max or mean over rows [r0, r1) × columns [c0, c1) of plane p, divided by {@code divisor}. */
  private static double region(Blob x, int p, int r0, int r1, int c0, int c1, boolean max, int divisor) {
    int h = x.shape(2), w = x.shape(3);
    double m = Double.NEGATIVE_INFINITY, s = 0;
    for (int r = r0; r < r1; r++) {
      for (int c = c0; c < c1; c++) {
        double v = x.data()[p * h * w + r * w + c];
        m = Math.max(m, v);
        s += v;
      }
    }
    return max ? m : s / divisor;
  }

  @Test
  void twoLevelsAreAGlobalPoolThenTwoByTwoBinsFlattenedAndConcatenated() {
    // 5×6: level 1 has kernel 3 per axis; rows pad (6 − 5 + 1)/2 = 1, so rows [−1, 2) and [2, 5);
    // columns pad 0: [0, 3) and [3, 6). Every window is 3×3 of the padded image (AVE divides by 9).
    int n = 2, c = 3;
    Blob x = gaussian(31, 1, n, c, 5, 6);
    for (boolean max : new boolean[] {true, false}) {
      Blob top = run("type: 'SPP' spp_param { pyramid_height: 2 pool: " + (max ? "MAX" : "AVE") + " }", x)
          .get(0);
      assertArrayEquals(new int[] {n, c + 4 * c}, top.shape());
      int[][] rows = {{0, 2}, {2, 5}};
      int[][] cols = {{0, 3}, {3, 6}};
      for (int in = 0; in < n; in++) {
        for (int ic = 0; ic < c; ic++) {
          int p = in * c + ic;
          assertEquals(region(x, p, 0, 5, 0, 6, max, 30), top.data()[in * 5 * c + ic], 1e-6,
              "level 0 " + p);
          for (int bh = 0; bh < 2; bh++) {
            for (int bw = 0; bw < 2; bw++) {
              double expected = region(x, p, rows[bh][0], rows[bh][1], cols[bw][0], cols[bw][1], max, 9);
              assertEquals(expected, top.data()[in * 5 * c + c + ic * 4 + bh * 2 + bw], 1e-6,
                  "level 1 " + p + " bin " + bh + "," + bw);
            }
          }
        }
      }
    }
  }

  @Test
  void oneLevelIsGlobalPoolingWithAFourAxisTop() {
    Blob x = gaussian(32, 1, 2, 3, 4, 5);
    Blob spp = run("type: 'SPP' spp_param { pyramid_height: 1 pool: AVE }", x).get(0);
    Blob global = run("type: 'Pooling' pooling_param { pool: AVE global_pooling: true }", x).get(0);
    assertArrayEquals(new int[] {2, 3, 1, 1}, spp.shape());
    assertArrayEquals(global.data(), spp.data());
  }

  @Test
  void threeLevelsHaveOnePlusFourPlusSixteenBinsPerChannel() {
    Blob top = run("type: 'SPP' spp_param { pyramid_height: 3 }", gaussian(33, 1, 2, 3, 13, 9)).get(0);
    assertArrayEquals(new int[] {2, 3 * 21}, top.shape());
  }

  @Test
  void gradient() {
    for (String pool : new String[] {"MAX", "AVE"}) {
      GradientChecker checker = new GradientChecker(1e-4, 1e-2);
      checker.checkExhaustive(layer("type: 'SPP' spp_param { pyramid_height: 3 pool: " + pool + " }"),
          list(gaussian(34, 1, 2, 2, 8, 7)), tops(1), -1);
      assertChecked(checker);
    }
  }

  @Test
  void aPyramidHeightOfZeroIsRejected() {
    Layer layer = layer("name: 'spp1' type: 'SPP' spp_param { pool: MAX }");
    NetException e = assertThrows(NetException.class,
        () -> layer.setUp(list(new Blob(1, 2, 4, 4)), tops(1)));
    assertTrue(e.getMessage().contains("spp1") && e.getMessage().contains("pyramid_height"), e.getMessage());
  }
}
