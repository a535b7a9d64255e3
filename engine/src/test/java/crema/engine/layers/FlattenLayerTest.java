package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlattenLayerTest {
  @Test
  void mergesTheAxesFromOneByDefault() {
    Layer layer = layer("type: 'Flatten'");
    Blob x = gaussian(1, 1, 2, 3, 4, 5);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {2, 60}, top.get(0).shape());
    layer.forward(list(x), top);
    assertEquals(x.data()[77], top.get(0).data()[77]);
  }

  @Test
  void axisAndEndAxis() {
    Layer layer = layer("type: 'Flatten' flatten_param { axis: 1 end_axis: -2 }");
    List<Blob> top = tops(1);
    layer.setUp(list(gaussian(1, 1, 2, 3, 4, 5)), top);
    assertArrayEquals(new int[] {2, 12, 5}, top.get(0).shape());
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkEltwise(layer("type: 'Flatten'"), list(gaussian(2, 1, 2, 3, 2)), tops(1));
    assertChecked(checker);
  }
}
