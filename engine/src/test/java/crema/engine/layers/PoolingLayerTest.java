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

class PoolingLayerTest {
  /** Caffe's test_pooling_layer input: each 3×5 plane is this. */
  private static final float[] PLANE = {
      1, 2, 5, 2, 3,
      9, 4, 1, 4, 8,
      1, 2, 5, 2, 3};

  private static Blob planes(int num, int channels) {
    Blob b = new Blob(num, channels, 3, 5);
    for (int p = 0; p < num * channels; p++) {
      System.arraycopy(PLANE, 0, b.data(), p * 15, 15);
    }
    return b;
  }

  private static List<Blob> run(String proto, Blob bottom, int tops) {
    Layer layer = layer(proto);
    List<Blob> top = tops(tops);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    return top;
  }

  @Test
  void maxWithMaskTopGivesTheArgmaxIndicesAsCaffe() {
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 1 }",
        planes(2, 2), 2);
    assertArrayEquals(new int[] {2, 2, 2, 4}, top.get(0).shape());
    assertArrayEquals(new int[] {2, 2, 2, 4}, top.get(1).shape());
    float[] values = {9, 5, 5, 8, 9, 5, 5, 8};
    float[] mask = {5, 2, 2, 9, 5, 12, 12, 9};
    for (int p = 0; p < 4; p++) {
      for (int i = 0; i < 8; i++) {
        assertEquals(values[i], top.get(0).data()[p * 8 + i], "value " + p + "/" + i);
        assertEquals(mask[i], top.get(1).data()[p * 8 + i], "mask " + p + "/" + i);
      }
    }
  }

  /**
   * MAX takes its maximum without branching on the data (Pool2d.maxForward); on values where that
   * could part from Caffe's {@code v > best} loop from −FLT_MAX (ties, −0 beside +0, NaN, −∞,
   * −FLT_MAX itself, padding, clipped windows) output and mask are still Caffe's, bit for bit.
   */
  @Test
  void maxMatchesCaffesLoopOnTiesSignedZerosNaNAndInfinities() {
    float[] awkward = {0f, -0f, 1f, 1f, -1f, Float.NaN, Float.NEGATIVE_INFINITY, -Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, 2.5f};
    java.util.Random random = new java.util.Random(7);
    for (String geometry : new String[] {"kernel_size: 2 stride: 2", "kernel_size: 3 stride: 2",
        "kernel_size: 3 stride: 2 pad: 1", "kernel_size: 2 stride: 1", "kernel_h: 2 kernel_w: 3 stride: 2"}) {
      for (int trial = 0; trial < 20; trial++) {
        Blob bottom = new Blob(2, 3, 7, 9);
        float[] x = bottom.data();
        for (int i = 0; i < x.length; i++) {
          // Mostly a few distinct values (ties), some planes with NaN and infinities too.
          x[i] = trial % 2 == 0 ? awkward[random.nextInt(5)] : awkward[random.nextInt(awkward.length)];
        }
        List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX " + geometry + " }", bottom, 2);
        int pooledH = top.get(0).shape(2);
        int pooledW = top.get(0).shape(3);
        int stride = geometry.contains("stride: 1") ? 1 : 2;
        int pad = geometry.contains("pad: 1") ? 1 : 0;
        int kh = geometry.contains("kernel_h") ? 2 : geometry.contains("kernel_size: 3") ? 3 : 2;
        int kw = geometry.contains("kernel_w: 3") ? 3 : kh;
        for (int p = 0; p < 6; p++) {
          for (int ph = 0; ph < pooledH; ph++) {
            for (int pw = 0; pw < pooledW; pw++) {
              int hs = ph * stride - pad;
              int ws = pw * stride - pad;
              int he = Math.min(hs + kh, 7);
              int we = Math.min(ws + kw, 9);
              float best = -Float.MAX_VALUE;
              int index = -1;
              for (int h = Math.max(hs, 0); h < he; h++) {
                for (int w = Math.max(ws, 0); w < we; w++) {
                  if (x[p * 63 + h * 9 + w] > best) {
                    best = x[p * 63 + h * 9 + w];
                    index = h * 9 + w;
                  }
                }
              }
              int o = p * pooledH * pooledW + ph * pooledW + pw;
              String at = geometry + ", trial " + trial + ", plane " + p + ", output " + ph + "," + pw;
              assertEquals(Float.floatToRawIntBits(best), Float.floatToRawIntBits(top.get(0).data()[o]), at);
              assertEquals(index, top.get(1).data()[o], at);
            }
          }
        }
      }
    }
  }

  @Test
  void maxBackwardRoutesEachGradientToItsArgmax() {
    Layer layer = layer("type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 1 }");
    Blob bottom = planes(1, 1);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    for (int i = 0; i < 8; i++) {
      top.get(0).diff()[i] = i + 1;
    }
    layer.backward(top, new boolean[] {true}, list(bottom));
    // Outputs 0 and 4 pick index 5, 1 and 2 pick 2, 5 and 6 pick 12, 3 and 7 pick 9.
    float[] expected = new float[15];
    expected[5] = 1 + 5;
    expected[2] = 2 + 3;
    expected[12] = 6 + 7;
    expected[9] = 4 + 8;
    assertArrayEquals(expected, java.util.Arrays.copyOf(bottom.diff(), 15));
  }

  @Test
  void maxPaddingNeverWins() {
    Blob bottom = of(new float[] {-5, -4, -3, -2, -1, -6, -7, -8, -9}, 1, 1, 3, 3);
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 }",
        bottom, 2);
    // Windows: rows {0} / {1,2}, cols {0} / {1,2}.
    assertArrayEquals(new float[] {-5, -3, -2, -1}, top.get(0).data());
    assertArrayEquals(new float[] {0, 2, 3, 4}, top.get(1).data());
  }

  @Test
  void averageWithPadDividesByTheFullPaddedWindow() {
    Blob bottom = new Blob(1, 1, 3, 3);
    java.util.Arrays.fill(bottom.data(), 2f);
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 1 pad: 1 }",
        bottom, 1);
    float[] expected = {8 / 9f, 4 / 3f, 8 / 9f, 4 / 3f, 2, 4 / 3f, 8 / 9f, 4 / 3f, 8 / 9f};
    for (int i = 0; i < 9; i++) {
      assertEquals(expected[i], top.get(0).data()[i], 1e-6, "element " + i);
    }
  }

  @Test
  void averageOfAClippedLastWindowDividesByItsPartInsideThePaddedImage() {
    // 6×6 ones, kernel 3, stride 2, pad 1: ceil(5/2)+1 = 4 windows per axis, starting at −1, 1,
    // 3, 5. The first has 2 rows inside the image out of 3; the last, [5, 8), is cut at 7 = size
    // + pad, so it divides by 2 and holds 1 row of the image.
    Blob bottom = new Blob(1, 1, 6, 6);
    java.util.Arrays.fill(bottom.data(), 1f);
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }",
        bottom, 1);
    assertArrayEquals(new int[] {1, 1, 4, 4}, top.get(0).shape());
    float[] f = {2 / 3f, 1, 1, 1 / 2f};
    for (int h = 0; h < 4; h++) {
      for (int w = 0; w < 4; w++) {
        assertEquals(f[h] * f[w], top.get(0).data()[h * 4 + w], 1e-6, h + "," + w);
      }
    }
    // No padding: the last window [4, 7) is cut at 6 and divides by its 2 rows.
    top = run("type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 }", bottom, 1);
    assertArrayEquals(new int[] {1, 1, 3, 3}, top.get(0).shape());
    for (float v : top.get(0).data()) {
      assertEquals(1f, v, 1e-6);
    }
  }

  @Test
  void outputSizeRoundsUpAndDropsALastWindowStartingInThePadding() {
    int[][] cases = {
        // height, kernel, stride, pad, pooled
        {6, 3, 2, 0, 3}, // ceil(1.5) + 1
        {11, 3, 2, 0, 5}, // exact fit
        {11, 3, 2, 1, 6},
        {6, 3, 2, 1, 4},
        {5, 2, 2, 1, 3}, // ceil(2.5) + 1 = 4, but window 3 would start at 6 - 1 = 5 = height
        {4, 3, 1, 2, 6},
    };
    for (int[] c : cases) {
      List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX kernel_size: " + c[1]
          + " stride: " + c[2] + " pad: " + c[3] + " }", new Blob(1, 1, c[0], c[0]), 1);
      assertEquals(c[4], top.get(0).shape(2), java.util.Arrays.toString(c));
      assertEquals(c[4], top.get(0).shape(3), java.util.Arrays.toString(c));
    }
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2"
        + " round_mode: FLOOR }", new Blob(1, 1, 6, 6), 1);
    assertEquals(2, top.get(0).shape(2));
  }

  @Test
  void rectangularKernelStrideAndPad() {
    Blob bottom = new Blob(1, 1, 4, 5);
    for (int i = 0; i < 20; i++) {
      bottom.data()[i] = i;
    }
    // kernel 2×3, stride 2×1: rows {0,1}, {2,3}; columns [pw, pw+3); the max is the bottom right.
    List<Blob> top = run("type: 'Pooling' pooling_param { pool: MAX kernel_h: 2 kernel_w: 3"
        + " stride_h: 2 stride_w: 1 }", bottom, 1);
    assertArrayEquals(new int[] {1, 1, 2, 3}, top.get(0).shape());
    for (int ph = 0; ph < 2; ph++) {
      for (int pw = 0; pw < 3; pw++) {
        assertEquals((2 * ph + 1) * 5 + pw + 2, top.get(0).data()[ph * 3 + pw]);
      }
    }
    // pad_h 1, pad_w 0, kernel 2×2, stride 3×2: rows from −1 and 2 → {0} and {2,3}, each window
    // 2 rows of the padded image; columns [0,2), [2,4), and [4,5), cut at width + pad_w = 5.
    top = run("type: 'Pooling' pooling_param { pool: AVE kernel_h: 2 kernel_w: 2 pad_h: 1 pad_w: 0"
        + " stride_h: 3 stride_w: 2 }", bottom, 1);
    assertArrayEquals(new int[] {1, 1, 2, 3}, top.get(0).shape());
    assertArrayEquals(new float[] {(0 + 1) / 4f, (2 + 3) / 4f, 4 / 2f,
        (10 + 11 + 15 + 16) / 4f, (12 + 13 + 17 + 18) / 4f, (14 + 19) / 2f}, top.get(0).data());
  }

  @Test
  void globalPoolingPoolsEachWholePlane() {
    Blob bottom = gaussian(3, 1, 2, 3, 4, 5);
    List<Blob> max = run("type: 'Pooling' pooling_param { pool: MAX global_pooling: true }", bottom, 1);
    List<Blob> ave = run("type: 'Pooling' pooling_param { pool: AVE global_pooling: true }", bottom, 1);
    assertArrayEquals(new int[] {2, 3, 1, 1}, max.get(0).shape());
    for (int p = 0; p < 6; p++) {
      float m = -Float.MAX_VALUE;
      double s = 0;
      for (int i = 0; i < 20; i++) {
        m = Math.max(m, bottom.data()[p * 20 + i]);
        s += bottom.data()[p * 20 + i];
      }
      assertEquals(m, max.get(0).data()[p]);
      assertEquals(s / 20, ave.get(0).data()[p], 1e-6);
    }
  }

  @Test
  void stochasticTestIsTheActivationWeightedAverage() {
    Blob bottom = of(new float[] {1, 2, 3, 4, 0, 0, 0, 0}, 1, 2, 2, 2);
    List<Blob> top = run("type: 'Pooling' phase: TEST pooling_param { pool: STOCHASTIC kernel_size: 2"
        + " stride: 2 }", bottom, 1);
    assertEquals((1 + 4 + 9 + 16) / 10f, top.get(0).data()[0], 1e-6);
    assertEquals(0f, top.get(0).data()[1]);
  }

  @Test
  void stochasticTrainSamplesProportionallyToTheActivations() {
    Layer layer = layer("type: 'Pooling' pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }");
    layer.setRng(new crema.engine.Rng(5));
    Blob bottom = of(new float[] {1, 0, 3, 0}, 1, 1, 2, 2);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    int threes = 0;
    int n = 20000;
    for (int i = 0; i < n; i++) {
      layer.forward(list(bottom), top);
      float v = top.get(0).data()[0];
      assertTrue(v == 1f || v == 3f, "a sampled value: " + v);
      threes += v == 3f ? 1 : 0;
    }
    assertEquals(0.75, threes / (double) n, 0.015);
    // The gradient goes to the sampled input.
    top.get(0).diff()[0] = 7;
    layer.backward(top, new boolean[] {true}, list(bottom));
    float[] dx = bottom.diff();
    assertEquals(7f, top.get(0).data()[0] == 3f ? dx[2] : dx[0]);
    assertEquals(7f, dx[0] + dx[1] + dx[2] + dx[3]);
  }

  @Test
  void gradientMax() {
    for (String extra : new String[] {"", " top: 'mask'"}) {
      GradientChecker checker = new GradientChecker(1e-4, 1e-2);
      Layer layer = layer("type: 'Pooling' pooling_param { pool: MAX kernel_h: 3 kernel_w: 2"
          + " stride_h: 2 stride_w: 1 pad: 1 }" + extra);
      checker.checkExhaustive(layer, list(gaussian(11, 1, 2, 2, 5, 4)), tops(extra.isEmpty() ? 1 : 2), -1);
      assertChecked(checker);
    }
  }

  @Test
  void gradientAve() {
    for (String geometry : new String[] {"kernel_size: 3 stride: 2 pad: 1", "kernel_size: 3 stride: 2",
        "kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 2 pad_h: 1 pad_w: 1", "global_pooling: true"}) {
      GradientChecker checker = new GradientChecker(1e-2, 1e-2);
      Layer layer = layer("type: 'Pooling' pooling_param { pool: AVE " + geometry + " }");
      checker.checkExhaustive(layer, list(gaussian(12, 1, 2, 2, 6, 5)), tops(1), -1);
      assertChecked(checker);
    }
  }

  @Test
  void gradientStochastic() {
    for (String phase : new String[] {"TRAIN", "TEST"}) {
      GradientChecker checker = new GradientChecker(1e-4, 1e-2);
      Layer layer = layer("type: 'Pooling' phase: " + phase
          + " pooling_param { pool: STOCHASTIC kernel_size: 3 stride: 2 }");
      checker.check(layer, list(uniform(13, 0.1, 1, 2, 2, 6, 5)), tops(1), -1);
      assertChecked(checker);
    }
  }

  @Test
  void runsInANetWithItsMaskTopBesideLRNSPPAndCrop() {
    String text = """
        force_backward: true
        layer { name: "in" type: "Input" top: "x" top: "t" input_param { shape { dim: 2 dim: 3 dim: 9 dim: 9 }
          shape { dim: 2 dim: 15 } } }
        layer { name: "pool" type: "Pooling" bottom: "x" top: "p" top: "mask"
          pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
        layer { name: "norm" type: "LRN" bottom: "p" top: "n" lrn_param { local_size: 3 } }
        layer { name: "crop" type: "Crop" bottom: "n" bottom: "x" top: "c" crop_param { offset: 0 }
          include { phase: TEST } }
        layer { name: "spp" type: "SPP" bottom: "n" top: "s" spp_param { pyramid_height: 2 pool: AVE } }
        layer { name: "loss" type: "EuclideanLoss" bottom: "s" bottom: "t" top: "loss" }
        layer { name: "silence" type: "Silence" bottom: "mask" }
        """;
    caffe.Caffe.NetParameter p = crema.engine.io.Prototxt.parseNet(text, "vision.prototxt");
    crema.engine.Net net = new crema.engine.Net(p, crema.engine.Net.state(p, caffe.Caffe.Phase.TRAIN, 0, List.of()));
    net.blob("x").data()[40] = 3f;
    net.blob("t").data()[0] = 1f;
    double loss = net.forwardBackward();
    assertTrue(loss > 0, "loss " + loss);
    assertArrayEquals(new int[] {2, 3, 5, 5}, net.blob("p").shape());
    assertArrayEquals(new int[] {2, 15}, net.blob("s").shape());
    assertEquals(3f, net.blob("p").data()[12]);
    assertEquals(40f, net.blob("mask").data()[12]);
    assertTrue(net.blob("x").diff()[40] != 0f);
  }

  private static void assertRejected(String proto, Blob bottom, int tops, String words) {
    Layer layer = layer("name: 'pool1' " + proto);
    NetException e = assertThrows(NetException.class, () -> layer.setUp(list(bottom), tops(tops)));
    assertTrue(e.getMessage().contains("pool1") && e.getMessage().contains(words), e.getMessage());
  }

  @Test
  void caffesChecksAreClearErrorsNamingTheLayer() {
    Blob x = new Blob(1, 1, 5, 5);
    assertRejected("type: 'Pooling' pooling_param { global_pooling: true kernel_size: 2 }", x, 1,
        "filter size cannot be specified");
    assertRejected("type: 'Pooling' pooling_param { global_pooling: true stride: 2 }", x, 1,
        "only pad = 0 and stride = 1");
    assertRejected("type: 'Pooling' pooling_param { global_pooling: true pad: 1 }", x, 1,
        "only pad = 0 and stride = 1");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 2 pad: 2 }", x, 1,
        "pad must be smaller than the kernel");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 2 kernel_h: 2 kernel_w: 2 }", x, 1,
        "not both");
    assertRejected("type: 'Pooling' pooling_param { kernel_h: 2 }", x, 1,
        "both kernel_h and kernel_w are required");
    assertRejected("type: 'Pooling' pooling_param { }", x, 1, "the filter size is required");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 2 pad: 1 pad_h: 1 pad_w: 1 }", x, 1,
        "pad is pad OR pad_h and pad_w");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 2 stride_h: 1 }", x, 1,
        "Stride is stride OR stride_h and stride_w");
    assertRejected("type: 'Pooling' pooling_param { pool: STOCHASTIC kernel_size: 2 pad: 1 }", x, 1,
        "Padding implemented only for average and max pooling");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 2 }", new Blob(2, 5, 5), 1,
        "4 axes");
    assertRejected("type: 'Pooling' pooling_param { kernel_size: 7 }", x, 1, "does not fit");
    assertRejected("type: 'Pooling' pooling_param { pool: AVE kernel_size: 2 }", x, 2,
        "at most 1 top");
  }
}
