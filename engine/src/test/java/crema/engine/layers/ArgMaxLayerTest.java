package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArgMaxLayerTest {
  private static final float[] X = {0.1f, 0.7f, 0.2f, 0.9f, 0.3f, 0.05f};

  @Test
  void topIndexPerItem() {
    Layer layer = layer("type: 'ArgMax'");
    List<Blob> top = tops(1);
    Blob x = of(X, 2, 3);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    assertArrayEquals(new int[] {2, 1, 1}, top.get(0).shape());
    assertEquals(1f, top.get(0).data()[0]);
    assertEquals(0f, top.get(0).data()[1]);
  }

  @Test
  void topKWithValues() {
    Layer layer = layer("type: 'ArgMax' argmax_param { top_k: 2 out_max_val: true }");
    List<Blob> top = tops(1);
    Blob x = of(X, 2, 3);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    assertArrayEquals(new int[] {2, 2, 2}, top.get(0).shape());
    assertArrayEquals(new float[] {1, 2, 0.7f, 0.2f}, java.util.Arrays.copyOf(top.get(0).data(), 4));
  }

  @Test
  void alongAnAxisGivesValuesOrIndices() {
    Layer layer = layer("type: 'ArgMax' argmax_param { axis: 0 }");
    List<Blob> top = tops(1);
    Blob x = of(X, 2, 3);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    assertArrayEquals(new int[] {1, 3}, top.get(0).shape());
    assertArrayEquals(new float[] {1, 0, 0}, java.util.Arrays.copyOf(top.get(0).data(), 3));
  }
}
