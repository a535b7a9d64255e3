package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccuracyLayerTest {
  private static final float[] SCORES = {
      0.1f, 0.7f, 0.2f, // label 1: top-1 right
      0.5f, 0.3f, 0.2f, // label 1: second
      0.2f, 0.3f, 0.5f, // label 0: third
      0.6f, 0.3f, 0.1f, // label 2 (ignored below)
  };
  private static final float[] LABELS = {1, 1, 0, 2};

  private static float[] run(String proto, int tops) {
    Layer layer = layer(proto);
    List<Blob> top = tops(tops);
    Blob x = of(SCORES, 4, 3);
    Blob l = of(LABELS, 4);
    layer.setUp(list(x, l), top);
    layer.forward(list(x, l), top);
    float[] out = new float[tops == 2 ? 4 : 1];
    out[0] = top.get(0).data()[0];
    if (tops == 2) {
      System.arraycopy(top.get(1).data(), 0, out, 1, 3);
    }
    return out;
  }

  @Test
  void topOne() {
    assertEquals(0.25f, run("type: 'Accuracy'", 1)[0], 1e-7);
  }

  @Test
  void topTwoCountsTheSecondBest() {
    assertEquals(0.5f, run("type: 'Accuracy' accuracy_param { top_k: 2 }", 1)[0], 1e-7);
  }

  @Test
  void ignoreLabelLeavesTheRowOut() {
    assertEquals(1f / 3, run("type: 'Accuracy' accuracy_param { ignore_label: 2 }", 1)[0], 1e-7);
  }

  @Test
  void secondTopGivesAccuracyPerClass() {
    float[] r = run("type: 'Accuracy'", 2);
    assertEquals(0f, r[1]);
    assertEquals(0.5f, r[2]);
    assertEquals(0f, r[3]);
  }

  @Test
  void hasNoGradientAndIsNotALoss() {
    Layer layer = layer("type: 'Accuracy'");
    assertEquals(false, layer.isLoss());
    List<Blob> top = tops(1);
    Blob x = of(SCORES, 4, 3);
    Blob l = of(LABELS, 4);
    layer.setUp(list(x, l), top);
    assertEquals(0f, layer.lossWeight(0));
    assertThrows(UnsupportedOperationException.class,
        () -> layer.backward(top, new boolean[] {true, false}, list(x, l)));
  }
}
