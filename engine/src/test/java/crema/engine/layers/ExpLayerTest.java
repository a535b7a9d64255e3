package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExpLayerTest {
  private static final String PROTO = "type: \"Exp\" exp_param { base: 2 scale: 0.5 shift: 1 }";

  @Test
  void forwardMatchesTheDefinition() {
    Layer layer = layer(PROTO);
    Blob bottom = gaussian(14, 1.0, 2, 3, 4, 5);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    for (int i = 0; i < bottom.count(); i++) {
      double x = bottom.data()[i];
      double expected = Math.pow(2, 1 + 0.5 * x);
      assertEquals(expected, top.get(0).data()[i], 1e-5 * Math.max(1, Math.abs(expected)), "element " + i);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkEltwise(layer(PROTO), list(gaussian(14, 1.0, 2, 3, 4, 5)), tops(1));
    assertChecked(checker);
  }

  @Test
  void inPlaceGivesTheSameGradient() {
    assertInPlaceMatches(PROTO, () -> gaussian(14, 1.0, 2, 3, 4, 5));
  }
}
