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

class EmbedLayerTest {
  private static final String PROTO = "type: 'Embed' embed_param { num_output: 4 input_dim: 5"
      + " weight_filler { type: 'uniform' min: -1 max: 1 } bias_filler { type: 'uniform' min: -1 max: 1 } }";

  @Test
  void selectsRowsAndAddsBias() {
    Layer layer = layer(PROTO);
    Blob idx = of(new float[] {4, 0, 2, 2, 1, 3}, 2, 3);
    List<Blob> top = tops(1);
    layer.setUp(list(idx), top);
    assertArrayEquals(new int[] {2, 3, 4}, top.get(0).shape());
    layer.forward(list(idx), top);
    for (int i = 0; i < 6; i++) {
      int row = (int) idx.data()[i];
      for (int j = 0; j < 4; j++) {
        assertEquals(layer.blobs().get(0).data()[row * 4 + j] + layer.blobs().get(1).data()[j],
            top.get(0).data()[i * 4 + j], 1e-6);
      }
    }
  }

  @Test
  void gradientForWeightsAndBias() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer(PROTO), list(of(new float[] {4, 0, 2, 2, 1, 3}, 6)), tops(1), -2);
    assertChecked(checker);
  }

  @Test
  void outOfRangeIndexIsNamed() {
    Layer layer = layer(PROTO);
    Blob idx = of(new float[] {5}, 1);
    List<Blob> top = tops(1);
    layer.setUp(list(idx), top);
    var e = assertThrows(IllegalArgumentException.class, () -> layer.forward(list(idx), top));
    assertEquals(true, e.getMessage().contains("[0, 5)"), e.getMessage());
  }
}
