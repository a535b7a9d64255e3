package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SoftmaxWithLossLayerTest {
  /** −Σ log p_label over non-ignored positions, for a (2, 3, 2) input. */
  private static double[] rawLoss(Blob x, Blob label, int ignore) {
    double loss = 0;
    int valid = 0;
    for (int n = 0; n < 2; n++) {
      for (int s = 0; s < 2; s++) {
        int l = (int) label.data()[n * 2 + s];
        if (l == ignore) {
          continue;
        }
        double denom = 0;
        for (int c = 0; c < 3; c++) {
          denom += Math.exp(x.data()[(n * 3 + c) * 2 + s]);
        }
        loss -= Math.log(Math.exp(x.data()[(n * 3 + l) * 2 + s]) / denom);
        valid++;
      }
    }
    return new double[] {loss, valid};
  }

  @ParameterizedTest
  @ValueSource(strings = {"FULL", "VALID", "BATCH_SIZE", "NONE"})
  void everyNormalizationMode(String mode) {
    Blob x = gaussian(1, 1, 2, 3, 2);
    Blob label = of(new float[] {0, 2, 1, 1}, 2, 2);
    Layer layer = layer("type: 'SoftmaxWithLoss' loss_param { ignore_label: 1 normalization: " + mode + " }");
    List<Blob> top = tops(1);
    layer.setUp(list(x, label), top);
    double reported = layer.forward(list(x, label), top);
    double[] raw = rawLoss(x, label, 1);
    double divisor = switch (mode) {
      case "FULL" -> 4;
      case "VALID" -> raw[1];
      case "BATCH_SIZE" -> 2;
      default -> 1;
    };
    assertEquals(raw[0] / divisor, top.get(0).data()[0], 1e-5);
    assertEquals(top.get(0).data()[0], reported, 1e-6, "loss_weight 1 by default");
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'SoftmaxWithLoss' loss_param { ignore_label: 1 normalization: " + mode + " }"),
        list(gaussian(1, 1, 2, 3, 2), of(new float[] {0, 2, 1, 1}, 2, 2)), tops(1), 0);
    assertChecked(checker);
  }

  @Test
  void collapsedProbabilityGivesMinusLogFltMin() {
    Layer layer = layer("type: 'SoftmaxWithLoss'");
    Blob x = of(new float[] {0, 1000}, 1, 2);
    Blob label = of(new float[] {0}, 1);
    List<Blob> top = tops(1);
    layer.setUp(list(x, label), top);
    layer.forward(list(x, label), top);
    assertEquals(87.3365, top.get(0).data()[0], 1e-4);
  }

  @Test
  void deprecatedNormalizeFalseMeansBatchSize() {
    Blob x = gaussian(3, 1, 2, 3, 2);
    Blob label = of(new float[] {0, 2, 1, 1}, 2, 2);
    Layer layer = layer("type: 'SoftmaxWithLoss' loss_param { normalize: false }");
    List<Blob> top = tops(1);
    layer.setUp(list(x, label), top);
    layer.forward(list(x, label), top);
    assertEquals(rawLoss(x, label, -1)[0] / 2, top.get(0).data()[0], 1e-5);
  }

  @Test
  void optionalSecondTopHoldsTheProbabilities() {
    Blob x = gaussian(4, 1, 2, 3);
    Blob label = of(new float[] {0, 2}, 2);
    Layer layer = layer("type: 'SoftmaxWithLoss' loss_weight: 1 loss_weight: 0");
    List<Blob> top = tops(2);
    layer.setUp(list(x, label), top);
    layer.forward(list(x, label), top);
    double sum = top.get(1).data()[0] + top.get(1).data()[1] + top.get(1).data()[2];
    assertEquals(1, sum, 1e-6);
  }
}
