package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class EuclideanLossLayerTest {
  @Test
  void halfMeanSquaredDistance() {
    Blob a = gaussian(1, 1, 10, 5, 1, 1);
    Blob b = gaussian(2, 1, 10, 5, 1, 1);
    Layer layer = layer("type: 'EuclideanLoss'");
    List<Blob> top = tops(1);
    layer.setUp(list(a, b), top);
    layer.forward(list(a, b), top);
    double s = 0;
    for (int i = 0; i < 50; i++) {
      s += Math.pow(a.data()[i] - b.data()[i], 2);
    }
    assertEquals(s / 10 / 2, top.get(0).data()[0], 1e-5);
  }

  @Test
  void gradientForBothInputsWithALossWeight() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'EuclideanLoss' loss_weight: 3.7"),
        list(gaussian(3, 1, 4, 3), gaussian(4, 1, 4, 3)), tops(1), -1);
    assertChecked(checker);
  }
}
