package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputLayerTest {
  @Test
  void oneShapeForAllTops() {
    Layer layer = layer("type: 'Input' input_param { shape { dim: 1 dim: 93 dim: 1 dim: 1 } }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    assertArrayEquals(new int[] {1, 93, 1, 1}, top.get(0).shape());
    assertArrayEquals(new int[] {1, 93, 1, 1}, top.get(1).shape());
  }

  @Test
  void oneShapePerTop() {
    Layer layer = layer("type: 'Input' input_param { shape { dim: 4 dim: 3 } shape { dim: 4 } }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    assertArrayEquals(new int[] {4, 3}, top.get(0).shape());
    assertArrayEquals(new int[] {4}, top.get(1).shape());
  }

  @Test
  void wrongNumberOfShapesIsRefused() {
    Layer layer = layer("type: 'Input' input_param { shape { dim: 4 } shape { dim: 4 } }");
    assertThrows(IllegalArgumentException.class, () -> layer.setUp(list(), tops(3)));
  }
}
