package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultinomialLogisticLossLayerTest {
  @Test
  void meanNegativeLogOfTheLabelsProbability() {
    Blob p = uniform(1, 0.1, 1, 5, 4);
    Blob label = labels(2, 5, 4);
    Layer layer = layer("type: 'MultinomialLogisticLoss'");
    List<Blob> top = tops(1);
    layer.setUp(list(p, label), top);
    layer.forward(list(p, label), top);
    double loss = 0;
    for (int n = 0; n < 5; n++) {
      loss -= Math.log(p.data()[n * 4 + (int) label.data()[n]]);
    }
    assertEquals(loss / 5, top.get(0).data()[0], 1e-5);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 2e-2, 1701, 0, 0.05);
    checker.checkExhaustive(layer("type: 'MultinomialLogisticLoss'"),
        list(uniform(3, 0.5, 1.5, 5, 4), labels(4, 5, 4)), tops(1), 0);
    assertChecked(checker);
  }
}
