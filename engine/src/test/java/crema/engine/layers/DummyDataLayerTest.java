package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class DummyDataLayerTest {
  @Test
  void constantByDefaultAndLegacyShapes() {
    Layer layer = layer("type: 'DummyData' dummy_data_param { num: 2 channels: 3 height: 1 width: 1 }");
    List<Blob> top = tops(1);
    layer.setUp(list(), top);
    assertArrayEquals(new int[] {2, 3, 1, 1}, top.get(0).shape());
    assertEquals(0f, top.get(0).data()[5]);
  }

  @Test
  void randomFillersRefillEveryForwardConstantsDoNot() {
    Layer layer = layer("type: 'DummyData' dummy_data_param { shape { dim: 5 } shape { dim: 2 }"
        + " data_filler { type: 'gaussian' } data_filler { type: 'constant' value: 7 } }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    float first = top.get(0).data()[0];
    layer.forward(list(), top);
    assertNotEquals(first, top.get(0).data()[0]);
    assertEquals(7f, top.get(1).data()[1]);
  }
}
