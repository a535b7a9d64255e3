package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BiasLayerTest {
  @Test
  void addsABiasOverTwoAxes() {
    Layer layer = layer("type: 'Bias' bias_param { axis: 1 num_axes: 2 filler { type: 'gaussian' } }");
    Blob x = gaussian(1, 1, 2, 3, 4, 5);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertEquals(12, layer.blobs().get(0).count());
    layer.forward(list(x), top);
    for (int i = 0; i < x.count(); i++) {
      int d = (i / 5) % 12;
      assertEquals(x.data()[i] + layer.blobs().get(0).data()[d], top.get(0).data()[i], 1e-6);
    }
  }

  @Test
  void gradientLearnedBias() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Bias' bias_param { filler { type: 'gaussian' } }"),
        list(gaussian(2, 1, 2, 3, 2)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void gradientBiasFromASecondBottom() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Bias'"), list(gaussian(3, 1, 2, 3, 2), gaussian(4, 1, 3)), tops(1), -1);
    assertChecked(checker);
  }
}
