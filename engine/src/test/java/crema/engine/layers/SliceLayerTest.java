package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SliceLayerTest {
  @Test
  void cutsAtSlicePoints() {
    Layer layer = layer("type: 'Slice' slice_param { axis: 1 slice_point: 1 slice_point: 4 }");
    Blob x = gaussian(1, 1, 2, 6);
    List<Blob> top = tops(3);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {2, 1}, top.get(0).shape());
    assertArrayEquals(new int[] {2, 3}, top.get(1).shape());
    assertArrayEquals(new int[] {2, 2}, top.get(2).shape());
    layer.forward(list(x), top);
    assertEquals(x.data()[6 + 1], top.get(1).data()[3]);
    assertEquals(x.data()[6 + 5], top.get(2).data()[3]);
  }

  @Test
  void equalPartsWithoutSlicePoints() {
    Layer layer = layer("type: 'Slice' slice_param { axis: 0 }");
    List<Blob> top = tops(2);
    layer.setUp(list(gaussian(1, 1, 4, 3)), top);
    assertArrayEquals(new int[] {2, 3}, top.get(1).shape());
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'Slice' slice_param { slice_point: 1 }"),
        list(gaussian(2, 1, 2, 3, 2)), tops(2), 0);
    assertChecked(checker);
  }
}
