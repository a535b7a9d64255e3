package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class InnerProductLayerTest {
  private static final String GAUSSIAN = "type: 'InnerProduct' inner_product_param { num_output: 10"
      + " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 } ";

  @Test
  void forwardIsXTimesWTransposedPlusBias() {
    Layer layer = layer(GAUSSIAN + "}");
    Blob x = gaussian(1, 1, 2, 3, 4, 5);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {10, 60}, layer.blobs().get(0).shape());
    assertArrayEquals(new int[] {2, 10}, top.get(0).shape());
    layer.forward(list(x), top);
    float[] w = layer.blobs().get(0).data();
    float[] b = layer.blobs().get(1).data();
    for (int n = 0; n < 2; n++) {
      for (int o = 0; o < 10; o++) {
        double s = b[o];
        for (int k = 0; k < 60; k++) {
          s += x.data()[n * 60 + k] * w[o * 60 + k];
        }
        assertEquals(s, top.get(0).data()[n * 10 + o], 1e-4);
      }
    }
  }

  @Test
  void transposeStoresWeightsKByN() {
    Layer plain = layer(GAUSSIAN + "}");
    Layer transposed = layer(GAUSSIAN + "transpose: true }");
    Blob x = gaussian(2, 1, 2, 6);
    List<Blob> t1 = tops(1);
    List<Blob> t2 = tops(1);
    plain.setUp(list(x), t1);
    transposed.setUp(list(x), t2);
    assertArrayEquals(new int[] {6, 10}, transposed.blobs().get(0).shape());
    for (int o = 0; o < 10; o++) {
      for (int k = 0; k < 6; k++) {
        transposed.blobs().get(0).data()[k * 10 + o] = plain.blobs().get(0).data()[o * 6 + k];
      }
    }
    System.arraycopy(plain.blobs().get(1).data(), 0, transposed.blobs().get(1).data(), 0, 10);
    plain.forward(list(x), t1);
    transposed.forward(list(x), t2);
    for (int i = 0; i < 20; i++) {
      assertEquals(t1.get(0).data()[i], t2.get(0).data()[i], 1e-5);
    }
  }

  @Test
  void gradientForInputsWeightsAndBias() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer(GAUSSIAN + "}"), list(gaussian(3, 1, 2, 3, 2)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void gradientTransposedAndOnAxisTwo() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer(GAUSSIAN + "transpose: true axis: 2 }"), list(gaussian(4, 1, 2, 2, 3)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void wrongInputSizeNamesBothSizes() {
    Layer layer = layer(GAUSSIAN + "}");
    List<Blob> top = tops(1);
    layer.setUp(list(gaussian(5, 1, 2, 6)), top);
    var e = assertThrows(IllegalArgumentException.class, () -> layer.forward(list(gaussian(5, 1, 2, 7)), top));
    assertEquals(true, e.getMessage().contains("expect 6") && e.getMessage().contains("gives 7"), e.getMessage());
  }
}
