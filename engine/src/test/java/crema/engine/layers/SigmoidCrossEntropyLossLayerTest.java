package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SigmoidCrossEntropyLossLayerTest {
  @Test
  void lossIsTheLogisticLossOverTheBatch() {
    Blob x = gaussian(1, 3, 4, 5);
    Blob t = uniform(2, 0, 1, 4, 5);
    Layer layer = layer("type: 'SigmoidCrossEntropyLoss'");
    List<Blob> top = tops(1);
    layer.setUp(list(x, t), top);
    layer.forward(list(x, t), top);
    double loss = 0;
    for (int i = 0; i < 20; i++) {
      double p = 1 / (1 + Math.exp(-x.data()[i]));
      loss -= t.data()[i] * Math.log(p) + (1 - t.data()[i]) * Math.log(1 - p);
    }
    assertEquals(loss / 4, top.get(0).data()[0], 1e-4, "normalised by the batch size by default");
  }

  @Test
  void ignoredTargetsCountNothing() {
    Blob x = of(new float[] {5, -3, 2}, 1, 3);
    Blob t = of(new float[] {1, -1, 0}, 1, 3);
    Layer layer = layer("type: 'SigmoidCrossEntropyLoss' loss_param { ignore_label: -1 normalization: VALID }");
    List<Blob> top = tops(1);
    layer.setUp(list(x, t), top);
    layer.forward(list(x, t), top);
    double expected = (Math.log1p(Math.exp(-5)) + Math.log1p(Math.exp(2))) / 2;
    assertEquals(expected, top.get(0).data()[0], 1e-5);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'SigmoidCrossEntropyLoss'"),
        list(gaussian(3, 1, 3, 4), uniform(4, 0, 1, 3, 4)), tops(1), 0);
    assertChecked(checker);
  }
}
