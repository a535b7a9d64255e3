package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class DropoutLayerTest {
  @Test
  void trainKeepsAboutOneMinusRatioScaledUp() {
    Layer layer = layer("type: 'Dropout' dropout_param { dropout_ratio: 0.3 }");
    Blob x = uniform(1, 1, 2, 100, 100);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    int kept = 0;
    for (int i = 0; i < x.count(); i++) {
      float y = top.get(0).data()[i];
      if (y != 0) {
        kept++;
        assertEquals(x.data()[i] / 0.7f, y, 1e-6);
      }
    }
    assertEquals(0.7, kept / 10000.0, 0.02);
  }

  @Test
  void testPhaseIsTheIdentity() {
    Layer layer = layer("type: 'Dropout' phase: TEST dropout_param { dropout_ratio: 0.3 }");
    Blob x = gaussian(2, 1, 10, 10);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    for (int i = 0; i < x.count(); i++) {
      assertEquals(x.data()[i], top.get(0).data()[i]);
    }
  }

  @Test
  void gradientMatchesFiniteDifferencesWithTheSameMask() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkEltwise(layer("type: 'Dropout' dropout_param { dropout_ratio: 0.5 }"),
        list(gaussian(3, 1, 2, 3, 4)), tops(1));
    assertChecked(checker);
  }

  @Test
  void ratioOutsideZeroOneIsRefused() {
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> layer("type: 'Dropout' dropout_param { dropout_ratio: 1 }")).getMessage().contains("dropout_ratio"));
  }
}
