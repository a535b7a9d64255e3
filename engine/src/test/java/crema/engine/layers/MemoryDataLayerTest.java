package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryDataLayerTest {
  @Test
  void batchesWrapAroundTheArrays() {
    MemoryDataLayer layer = (MemoryDataLayer) layer(
        "type: 'MemoryData' memory_data_param { batch_size: 2 channels: 3 height: 1 width: 1 }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    float[] data = new float[4 * 3];
    for (int i = 0; i < data.length; i++) {
      data[i] = i;
    }
    layer.reset(data, new float[] {10, 11, 12, 13}, 4);
    layer.forward(list(), top);
    assertEquals(3f, top.get(0).data()[3]);
    assertEquals(11f, top.get(1).data()[1]);
    layer.forward(list(), top);
    assertEquals(12f, top.get(1).data()[0]);
    layer.forward(list(), top);
    assertEquals(10f, top.get(1).data()[0], "wrapped");
    assertEquals(6, layer.readPosition());
  }

  @Test
  void countMustBeAMultipleOfTheBatch() {
    MemoryDataLayer layer = (MemoryDataLayer) layer(
        "type: 'MemoryData' memory_data_param { batch_size: 2 channels: 1 height: 1 width: 1 }");
    layer.setUp(list(), tops(2));
    assertThrows(IllegalArgumentException.class, () -> layer.reset(new float[3], new float[3], 3));
  }
}
