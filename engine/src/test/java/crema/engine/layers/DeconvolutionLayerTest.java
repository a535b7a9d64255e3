package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeconvolutionLayerTest {
  private static final String SETTINGS = "num_output: 3 kernel_size: 3 stride: 2 pad: 1 group: 1"
      + " weight_filler { type: 'gaussian' std: 0.3 } bias_filler { type: 'gaussian' std: 0.3 }";

  @Test
  void outputSizeAndWeightsAreTheConvolutionsReversed() {
    Layer layer = layer("type: 'Deconvolution' convolution_param { " + SETTINGS + " }");
    List<Blob> top = tops(1);
    layer.setUp(list(gaussian(1, 1, 2, 6, 6, 6)), top);
    assertArrayEquals(new int[] {2, 3, 11, 11}, top.get(0).shape());
    assertArrayEquals(new int[] {6, 3, 3, 3}, layer.blobs().get(0).shape());
  }

  /**
   * Deconvolution is the adjoint of the convolution with the same weights and no bias:
   * ⟨deconv(x), y⟩ = ⟨x, conv(y)⟩ for any x and y.
   */
  @Test
  void isTheAdjointOfTheConvolution() {
    String noBias = SETTINGS.replace("group: 1", "group: 1 bias_term: false");
    Layer deconv = layer("type: 'Deconvolution' convolution_param { " + noBias + " }");
    Layer conv = layer("type: 'Convolution' convolution_param { " + noBias.replace("num_output: 3", "num_output: 6")
        + " }");
    Blob x = gaussian(2, 1, 2, 6, 6, 6);
    Blob y = gaussian(3, 1, 2, 3, 11, 11);
    List<Blob> dTop = tops(1);
    List<Blob> cTop = tops(1);
    deconv.setUp(list(x), dTop);
    conv.setUp(list(y), cTop);
    assertArrayEquals(deconv.blobs().get(0).shape(), conv.blobs().get(0).shape());
    conv.blobs().get(0).copyFrom(deconv.blobs().get(0), false, false);
    deconv.forward(list(x), dTop);
    conv.forward(list(y), cTop);
    double left = 0;
    for (int i = 0; i < y.count(); i++) {
      left += (double) dTop.get(0).data()[i] * y.data()[i];
    }
    double right = 0;
    for (int i = 0; i < x.count(); i++) {
      right += (double) x.data()[i] * cTop.get(0).data()[i];
    }
    assertEquals(left, right, 1e-4 * Math.abs(left));
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Deconvolution' convolution_param { "
            + SETTINGS.replace("group: 1", "group: 2").replace("num_output: 3", "num_output: 4") + " }"),
        list(gaussian(4, 1, 2, 2, 3, 3)), tops(1), -1);
    assertChecked(checker);
  }
}
