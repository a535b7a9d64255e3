package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitLayerTest {
  @Test
  void copiesToEveryTopAndSumsGradients() {
    Layer layer = layer("type: 'Split'");
    Blob x = gaussian(1, 1, 2, 3);
    List<Blob> top = tops(3);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 6; i++) {
        assertEquals(x.data()[i], top.get(t).data()[i]);
        top.get(t).diff()[i] = t + 1;
      }
    }
    layer.backward(top, new boolean[] {true}, list(x));
    for (int i = 0; i < 6; i++) {
      assertEquals(6f, x.diff()[i]);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'Split'"), list(gaussian(2, 1, 2, 3)), tops(2), 0);
    assertChecked(checker);
  }
}
