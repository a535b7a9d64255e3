package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SilenceLayerTest {
  @Test
  void producesNothingAndAZeroGradient() {
    Layer layer = layer("type: 'Silence'");
    Blob x = gaussian(1, 1, 2, 3);
    List<Blob> top = tops(0);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    for (int i = 0; i < 6; i++) {
      x.diff()[i] = 5;
    }
    layer.backward(top, new boolean[] {true}, list(x));
    for (int i = 0; i < 6; i++) {
      assertEquals(0f, x.diff()[i], "the numeric gradient of a silenced blob is 0");
    }
  }
}
