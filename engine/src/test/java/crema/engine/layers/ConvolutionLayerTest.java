package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConvolutionLayerTest {
  private static final String FILLERS = " weight_filler { type: 'gaussian' std: 0.3 }"
      + " bias_filler { type: 'gaussian' std: 0.3 }";

  private static Layer conv(String settings) {
    return layer("type: 'Convolution' convolution_param { " + settings + FILLERS + " }");
  }

  /** y[n][o][i][j] = b[o] + Σ w[o][c][u][v]·x[n][g·C/G + c][i·s − p + u·d][j·s − p + v·d], in double. */
  static double[] direct(Blob x, Blob w, float[] bias, int group, int kh, int kw, int ph, int pw,
      int sh, int sw, int dh, int dw) {
    int num = x.shape(0);
    int channels = x.shape(1);
    int h = x.shape(2);
    int wd = x.shape(3);
    int outs = w.shape(0);
    int outH = (h + 2 * ph - (dh * (kh - 1) + 1)) / sh + 1;
    int outW = (wd + 2 * pw - (dw * (kw - 1) + 1)) / sw + 1;
    int cg = channels / group;
    int og = outs / group;
    double[] y = new double[num * outs * outH * outW];
    for (int n = 0; n < num; n++) {
      for (int o = 0; o < outs; o++) {
        int g = o / og;
        for (int i = 0; i < outH; i++) {
          for (int j = 0; j < outW; j++) {
            double s = bias == null ? 0 : bias[o];
            for (int c = 0; c < cg; c++) {
              for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                  int r = i * sh - ph + u * dh;
                  int q = j * sw - pw + v * dw;
                  if (r >= 0 && r < h && q >= 0 && q < wd) {
                    s += w.data()[((o * cg + c) * kh + u) * kw + v]
                        * x.data()[((n * channels + g * cg + c) * h + r) * wd + q];
                  }
                }
              }
            }
            y[((n * outs + o) * outH + i) * outW + j] = s;
          }
        }
      }
    }
    return y;
  }

  private static void assertDirect(String settings, Blob x, int group, int kh, int kw, int ph, int pw,
      int sh, int sw, int dh, int dw, int[] expectedShape) {
    Layer layer = conv(settings);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(expectedShape, top.get(0).shape());
    layer.forward(list(x), top);
    float[] bias = layer.blobs().size() > 1 ? layer.blobs().get(1).data() : null;
    double[] y = direct(x, layer.blobs().get(0), bias, group, kh, kw, ph, pw, sh, sw, dh, dw);
    for (int i = 0; i < y.length; i++) {
      assertEquals(y[i], top.get(0).data()[i], 1e-5 * Math.max(1, Math.abs(y[i])), "element " + i);
    }
  }

  @Test
  void groupsPadAndStrideMatchTheDefinition() {
    assertDirect("num_output: 6 kernel_size: 3 pad: 1 stride: 2 group: 3", gaussian(1, 1, 2, 3, 11, 11),
        3, 3, 3, 1, 1, 2, 2, 1, 1, new int[] {2, 6, 6, 6});
  }

  @Test
  void dilationWithoutBiasMatchesTheDefinition() {
    assertDirect("num_output: 4 kernel_size: 3 dilation: 2 bias_term: false", gaussian(2, 1, 2, 3, 11, 11),
        1, 3, 3, 0, 0, 1, 1, 2, 2, new int[] {2, 4, 7, 7});
  }

  @Test
  void perAxisSettingsMatchTheDefinition() {
    assertDirect("num_output: 5 kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 3",
        gaussian(3, 1, 2, 3, 11, 11), 1, 3, 2, 1, 0, 2, 3, 1, 1, new int[] {2, 5, 6, 4});
  }

  @Test
  void oneByOneSkipsIm2colAndMatches() {
    assertDirect("num_output: 4 kernel_size: 1", gaussian(4, 1, 3, 5, 4, 3), 1, 1, 1, 0, 0, 1, 1, 1, 1,
        new int[] {3, 4, 4, 3});
  }

  /**
   * Forward and backward of a convolution with stride 1 and no groups against the definition in
   * double: y, then dW, db and dx for a gaussian top gradient. Returns the layer's chunk.
   */
  private static int assertForwardBackwardAgainstTheDefinition(Blob x, int outs, int k, int pad) {
    Layer layer = conv("num_output: " + outs + " kernel_size: " + k + " pad: " + pad);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    Blob w = layer.blobs().get(0);
    double[] y = direct(x, w, layer.blobs().get(1).data(), 1, k, k, pad, pad, 1, 1, 1, 1);
    for (int i = 0; i < y.length; i++) {
      assertEquals(y[i], top.get(0).data()[i], 1e-4 * Math.max(1, Math.abs(y[i])), "y element " + i);
    }
    Blob t = top.get(0);
    float[] dy = gaussian(99, 1, t.shape()).data();
    System.arraycopy(dy, 0, t.diff(), 0, dy.length);
    layer.setParamPropagateDown(0, true);
    layer.setParamPropagateDown(1, true);
    layer.backward(top, new boolean[] {true}, list(x));
    int num = x.shape(0);
    int channels = x.shape(1);
    int h = x.shape(2);
    int wd = x.shape(3);
    int outH = t.shape(2);
    int outW = t.shape(3);
    double[] dw = new double[w.count()];
    double[] db = new double[outs];
    double[] dx = new double[x.count()];
    for (int n = 0; n < num; n++) {
      for (int o = 0; o < outs; o++) {
        for (int i = 0; i < outH; i++) {
          for (int j = 0; j < outW; j++) {
            double g = dy[((n * outs + o) * outH + i) * outW + j];
            db[o] += g;
            for (int c = 0; c < channels; c++) {
              for (int u = 0; u < k; u++) {
                for (int v = 0; v < k; v++) {
                  int r = i - pad + u;
                  int q = j - pad + v;
                  if (r >= 0 && r < h && q >= 0 && q < wd) {
                    int xi = ((n * channels + c) * h + r) * wd + q;
                    int wi = ((o * channels + c) * k + u) * k + v;
                    dw[wi] += g * x.data()[xi];
                    dx[xi] += g * w.data()[wi];
                  }
                }
              }
            }
          }
        }
      }
    }
    assertClose(dw, w.diff(), "dW");
    assertClose(db, layer.blobs().get(1).diff(), "db");
    assertClose(dx, x.diff(), "dx");
    return ((BaseConvolutionLayer) layer).chunk;
  }

  private static void assertClose(double[] expected, float[] actual, String what) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, Math.abs(expected[i])), what + " element " + i);
    }
  }

  @Test
  void shortRowsGoInChunksOfImagesAndMatchTheDefinition() {
    // 8-wide output rows: chunks of 2 of the 3 images (1440 rows × 64 positions per image within
    // 2^18 floats), so the last chunk holds one image.
    assertEquals(2, assertForwardBackwardAgainstTheDefinition(gaussian(11, 1, 3, 160, 10, 10), 4, 3, 0));
  }

  @Test
  void longRowsGoOneImageAtATimeAndMatchTheDefinition() {
    // 20-wide output rows (pad 1): Caffe's per-image lowering.
    assertEquals(1, assertForwardBackwardAgainstTheDefinition(gaussian(12, 1, 2, 3, 20, 20), 5, 3, 1));
  }

  @Test
  void weightsAreOutputsByGroupChannelsByKernel() {
    Layer layer = conv("num_output: 6 kernel_h: 3 kernel_w: 2 group: 3");
    layer.setUp(list(gaussian(1, 1, 1, 9, 5, 5)), tops(1));
    assertArrayEquals(new int[] {6, 3, 3, 2}, layer.blobs().get(0).shape());
    assertArrayEquals(new int[] {6}, layer.blobs().get(1).shape());
  }

  @Test
  void everyBottomGoesThroughTheSameWeights() {
    Layer layer = conv("num_output: 3 kernel_size: 2");
    Blob a = gaussian(5, 1, 1, 2, 4, 4);
    Blob b = gaussian(6, 1, 1, 2, 4, 4);
    List<Blob> top = tops(2);
    layer.setUp(list(a, b), top);
    layer.forward(list(a, b), top);
    Layer single = conv("num_output: 3 kernel_size: 2");
    List<Blob> one = tops(1);
    single.setUp(list(b), one);
    single.blobs().get(0).copyFrom(layer.blobs().get(0), false, false);
    single.blobs().get(1).copyFrom(layer.blobs().get(1), false, false);
    single.forward(list(b), one);
    assertArrayEquals(one.get(0).data(), top.get(1).data());
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(conv("num_output: 4 kernel_size: 3 pad: 1 stride: 2 group: 2"),
        list(gaussian(7, 1, 2, 4, 5, 5)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void dilatedAsymmetricGradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(conv("num_output: 2 kernel_h: 2 kernel_w: 3 dilation: 2 stride_w: 2 pad_w: 1"),
        list(gaussian(8, 1, 2, 2, 6, 5)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void oneByOneGradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(conv("num_output: 3 kernel_size: 1"), list(gaussian(9, 1, 2, 2, 3, 3)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void badSettingsNameTheField() {
    Blob x = gaussian(1, 1, 1, 3, 5, 5);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> conv("num_output: 4 kernel_size: 3 group: 2")
        .setUp(list(x), tops(1))).getMessage().contains("group"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> conv("num_output: 4"))
        .getMessage().contains("kernel_size"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> conv("num_output: 4 kernel_size: 3 kernel_h: 3"))
        .getMessage().contains("kernel_h"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> conv("num_output: 4 kernel_size: 7")
        .setUp(list(x), tops(1))).getMessage().contains("output would be"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> conv("num_output: 4 kernel_size: 3")
        .setUp(list(gaussian(1, 1, 2, 3, 5)), tops(1))).getMessage().contains("2-D"));
  }
}
