package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SoftmaxLayerTest {
  @Test
  void normalisesAlongTheChannelAxis() {
    Layer layer = layer("type: 'Softmax'");
    Blob x = gaussian(1, 3, 2, 5, 2, 3);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    for (int n = 0; n < 2; n++) {
      for (int s = 0; s < 6; s++) {
        double sum = 0;
        double denom = 0;
        for (int c = 0; c < 5; c++) {
          denom += Math.exp(x.data()[(n * 5 + c) * 6 + s]);
        }
        for (int c = 0; c < 5; c++) {
          int i = (n * 5 + c) * 6 + s;
          assertEquals(Math.exp(x.data()[i]) / denom, top.get(0).data()[i], 1e-6);
          sum += top.get(0).data()[i];
        }
        assertEquals(1, sum, 1e-6);
      }
    }
  }

  @Test
  void largeLogitsDoNotOverflow() {
    Layer layer = layer("type: 'Softmax'");
    Blob x = of(new float[] {1000, 1001, 999}, 1, 3);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    assertEquals(Math.exp(1) / (1 + Math.exp(1) + Math.exp(-1)), top.get(0).data()[1], 1e-6);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Softmax' softmax_param { axis: 1 }"),
        list(gaussian(2, 1, 2, 4, 2)), tops(1), 0);
    assertChecked(checker);
  }
}
