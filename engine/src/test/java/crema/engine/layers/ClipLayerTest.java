package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClipLayerTest {
  private static final String PROTO = "type: \"Clip\" clip_param { min: -1 max: 2 }";

  @Test
  void forwardMatchesTheDefinition() {
    Layer layer = layer(PROTO);
    Blob bottom = gaussian(17, 2.0, 2, 3, 4, 5);
    List<Blob> top = tops(1);
    layer.setUp(list(bottom), top);
    layer.forward(list(bottom), top);
    for (int i = 0; i < bottom.count(); i++) {
      double x = bottom.data()[i];
      double expected = Math.max(-1, Math.min(2, x));
      assertEquals(expected, top.get(0).data()[i], 1e-5 * Math.max(1, Math.abs(expected)), "element " + i);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    // Kinks at -1 and 2: Caffe's checker skips |x| within kink ± range, here [0.98, 2.02].

    GradientChecker checker = new GradientChecker(1e-2, 1e-3, 1701, 1.5, 0.52);
    checker.checkEltwise(layer(PROTO), list(gaussian(17, 2.0, 2, 3, 4, 5)), tops(1));
    assertChecked(checker);
  }

  @Test
  void inPlaceGivesTheSameGradient() {
    assertInPlaceMatches(PROTO, () -> gaussian(17, 2.0, 2, 3, 4, 5));
  }
}
