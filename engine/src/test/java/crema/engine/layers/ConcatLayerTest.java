package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConcatLayerTest {
  @Test
  void joinsAlongChannels() {
    Layer layer = layer("type: 'Concat'");
    Blob a = gaussian(1, 1, 2, 3, 2);
    Blob b = gaussian(2, 1, 2, 1, 2);
    List<Blob> top = tops(1);
    layer.setUp(list(a, b), top);
    assertArrayEquals(new int[] {2, 4, 2}, top.get(0).shape());
    layer.forward(list(a, b), top);
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 4; c++) {
        for (int s = 0; s < 2; s++) {
          float expected = c < 3 ? a.data()[(n * 3 + c) * 2 + s] : b.data()[n * 2 + s];
          assertEquals(expected, top.get(0).data()[(n * 4 + c) * 2 + s]);
        }
      }
    }
  }

  @Test
  void mismatchedShapesAreNamed() {
    Layer layer = layer("type: 'Concat' concat_param { axis: 0 }");
    var e = assertThrows(IllegalArgumentException.class,
        () -> layer.setUp(list(gaussian(1, 1, 2, 3), gaussian(1, 1, 2, 4)), tops(1)));
    assertEquals(true, e.getMessage().contains("2 3 (6)") && e.getMessage().contains("2 4 (8)"), e.getMessage());
  }

  @Test
  void gradientOnAxisZeroAndOne() {
    for (int axis = 0; axis < 2; axis++) {
      GradientChecker checker = new GradientChecker(1e-2, 1e-2);
      Blob b = axis == 0 ? gaussian(4, 1, 1, 3, 2) : gaussian(4, 1, 2, 1, 2);
      checker.checkExhaustive(layer("type: 'Concat' concat_param { axis: " + axis + " }"),
          list(gaussian(3, 1, 2, 3, 2), b), tops(1), -1);
      assertChecked(checker);
    }
  }
}
