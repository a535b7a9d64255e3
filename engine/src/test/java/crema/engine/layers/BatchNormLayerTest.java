package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchNormLayerTest {
  @Test
  void trainNormalisesEachChannelAndUpdatesRunningStats() {
    Layer layer = layer("type: 'BatchNorm'");
    Blob x = gaussian(1, 3, 4, 3, 2, 2);
    for (int i = 0; i < x.count(); i++) {
      x.data()[i] += ((i / 4) % 3) * 10;
    }
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.forward(list(x), top);
    for (int c = 0; c < 3; c++) {
      double sum = 0;
      double sq = 0;
      double rawMean = 0;
      for (int n = 0; n < 4; n++) {
        for (int s = 0; s < 4; s++) {
          double v = top.get(0).data()[(n * 3 + c) * 4 + s];
          sum += v;
          sq += v * v;
          rawMean += x.data()[(n * 3 + c) * 4 + s];
        }
      }
      assertEquals(0, sum / 16, 1e-5, "mean of channel " + c);
      assertEquals(1, sq / 16, 1e-3, "variance of channel " + c);
      assertEquals(rawMean / 16, layer.blobs().get(0).data()[c], 1e-4, "running mean");
    }
    assertEquals(1f, layer.blobs().get(2).data()[0], "scale factor after one batch");
    assertEquals(0f, layer.paramSpec(0).getLrMult(), "statistics are never learned");
  }

  @Test
  void testPhaseUsesTheRunningStatistics() {
    Layer layer = layer("type: 'BatchNorm' phase: TEST batch_norm_param { eps: 0 }");
    Blob x = gaussian(2, 1, 2, 2, 1);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    layer.blobs().get(0).data()[0] = 2f;
    layer.blobs().get(0).data()[1] = 4f;
    layer.blobs().get(1).data()[0] = 8f;
    layer.blobs().get(1).data()[1] = 32f;
    layer.blobs().get(2).data()[0] = 2f;
    layer.forward(list(x), top);
    assertEquals((x.data()[0] - 1) / 2, top.get(0).data()[0], 1e-6);
    assertEquals((x.data()[1] - 2) / 4, top.get(0).data()[1], 1e-6);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 4e-3);
    checker.checkExhaustive(layer("type: 'BatchNorm'"), list(gaussian(3, 1, 2, 3, 2)), tops(1), 0);
    assertChecked(checker);
  }
}
