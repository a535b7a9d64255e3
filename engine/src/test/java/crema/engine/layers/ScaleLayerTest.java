package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScaleLayerTest {
  private static final String LEARNED = "type: 'Scale' scale_param { filler { type: 'gaussian' }"
      + " bias_term: true bias_filler { type: 'gaussian' } }";

  @Test
  void scalesPerChannelAndAddsBias() {
    Layer layer = layer(LEARNED);
    Blob x = gaussian(1, 1, 2, 3, 4);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {3}, layer.blobs().get(0).shape());
    layer.forward(list(x), top);
    for (int i = 0; i < x.count(); i++) {
      int c = (i / 4) % 3;
      assertEquals(x.data()[i] * layer.blobs().get(0).data()[c] + layer.blobs().get(1).data()[c],
          top.get(0).data()[i], 1e-6);
    }
  }

  @Test
  void defaultScaleIsOne() {
    Layer layer = layer("type: 'Scale'");
    List<Blob> top = tops(1);
    layer.setUp(list(gaussian(1, 1, 2, 3)), top);
    assertEquals(1f, layer.blobs().get(0).data()[2]);
  }

  @Test
  void gradientLearnedScaleAndBias() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer(LEARNED), list(gaussian(2, 1, 2, 3, 2)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void gradientScaleFromASecondBottom() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Scale' scale_param { axis: 1 }"),
        list(gaussian(3, 1, 2, 3, 2), gaussian(4, 1, 3, 2)), tops(1), -1);
    assertChecked(checker);
  }

  @Test
  void inPlaceGradientUsesTheInput() {
    Layer separate = layer(LEARNED);
    Layer inPlace = layer(LEARNED);
    Blob a = gaussian(5, 1, 2, 3);
    Blob b = gaussian(5, 1, 2, 3);
    List<Blob> top = tops(1);
    separate.setUp(list(a), top);
    inPlace.setUp(list(b), list(b));
    System.arraycopy(separate.blobs().get(0).data(), 0, inPlace.blobs().get(0).data(), 0, 3);
    separate.forward(list(a), top);
    inPlace.forward(list(b), list(b));
    for (int i = 0; i < 6; i++) {
      top.get(0).diff()[i] = 1f;
      b.diff()[i] = 1f;
    }
    separate.setParamPropagateDown(0, true);
    inPlace.setParamPropagateDown(0, true);
    separate.backward(top, new boolean[] {true}, list(a));
    inPlace.backward(list(b), new boolean[] {true}, list(b));
    for (int c = 0; c < 3; c++) {
      assertEquals(separate.blobs().get(0).diff()[c], inPlace.blobs().get(0).diff()[c], 1e-6);
    }
  }
}
