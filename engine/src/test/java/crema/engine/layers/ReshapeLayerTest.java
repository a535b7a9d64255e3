package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReshapeLayerTest {
  private static int[] shapeOf(String proto, int... bottom) {
    Layer layer = layer(proto);
    List<Blob> top = tops(1);
    layer.setUp(list(new Blob(bottom)), top);
    return top.get(0).shape();
  }

  @Test
  void zeroCopiesAndMinusOneInfers() {
    assertArrayEquals(new int[] {2, 3, 20},
        shapeOf("type: 'Reshape' reshape_param { shape { dim: 0 dim: 3 dim: -1 } }", 2, 3, 4, 5));
  }

  @Test
  void axisAndNumAxesReshapeARange() {
    assertArrayEquals(new int[] {2, 3, 2, 2, 5},
        shapeOf("type: 'Reshape' reshape_param { shape { dim: 2 dim: 2 } axis: 2 num_axes: 1 }", 2, 3, 4, 5));
    assertArrayEquals(new int[] {2, 3, 4, 5, 1},
        shapeOf("type: 'Reshape' reshape_param { shape { dim: 1 } axis: -1 num_axes: 0 }", 2, 3, 4, 5));
  }

  @Test
  void countMismatchIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> shapeOf("type: 'Reshape' reshape_param { shape { dim: 7 } }", 2, 3));
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkEltwise(layer("type: 'Reshape' reshape_param { shape { dim: -1 } }"),
        list(gaussian(2, 1, 2, 3)), tops(1));
    assertChecked(checker);
  }
}
