package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class PReLULayerTest {
  @Test
  void slopesArePerChannelAndStartAtAQuarter() {
    Layer layer = layer("type: 'PReLU'");
    Blob x = gaussian(1, 1, 2, 3, 4);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {3}, layer.blobs().get(0).shape());
    layer.blobs().get(0).data()[1] = -0.5f;
    layer.forward(list(x), top);
    for (int i = 0; i < x.count(); i++) {
      int c = (i / 4) % 3;
      float a = c == 1 ? -0.5f : 0.25f;
      float v = x.data()[i];
      assertEquals(v > 0 ? v : a * v, top.get(0).data()[i], 1e-6);
    }
  }

  @Test
  void gradientForInputsAndSlopes() {
    Layer layer = layer("type: 'PReLU' prelu_param { filler { type: 'uniform' min: 0.1 max: 0.9 } }");
    GradientChecker checker = new GradientChecker(1e-2, 1e-3, 1701, 0, 1e-2);
    checker.checkExhaustive(layer, list(gaussian(2, 1, 2, 3, 2, 2)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void channelSharedHasOneSlope() {
    Layer layer = layer("type: 'PReLU' prelu_param { channel_shared: true }");
    GradientChecker checker = new GradientChecker(1e-2, 1e-3, 1701, 0, 1e-2);
    checker.checkExhaustive(layer, list(gaussian(3, 1, 2, 3, 2)), tops(1), -1);
    assertEquals(1, layer.blobs().get(0).count());
    assertChecked(checker);
  }
}
