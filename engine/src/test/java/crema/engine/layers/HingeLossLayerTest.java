package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HingeLossLayerTest {
  @ParameterizedTest
  @ValueSource(strings = {"L1", "L2"})
  void oneVersusAllHinge(String norm) {
    Blob x = gaussian(1, 2, 6, 4);
    Blob label = labels(2, 6, 4);
    Layer layer = layer("type: 'HingeLoss' hinge_loss_param { norm: " + norm + " }");
    List<Blob> top = tops(1);
    layer.setUp(list(x, label), top);
    layer.forward(list(x, label), top);
    double loss = 0;
    for (int n = 0; n < 6; n++) {
      for (int j = 0; j < 4; j++) {
        double v = x.data()[n * 4 + j];
        double m = Math.max(0, 1 + (j == (int) label.data()[n] ? -v : v));
        loss += norm.equals("L2") ? m * m : m;
      }
    }
    assertEquals(loss / 6, top.get(0).data()[0], 1e-4);
    // Caffe's hinge test: kink at 1 (the margin), threshold 2e-3.
    GradientChecker checker = new GradientChecker(1e-2, 2e-3, 1701, 1, 0.01);
    checker.checkExhaustive(layer("type: 'HingeLoss' hinge_loss_param { norm: " + norm + " }"),
        list(gaussian(1, 2, 6, 4), labels(2, 6, 4)), tops(1), 0);
    assertChecked(checker);
  }
}
