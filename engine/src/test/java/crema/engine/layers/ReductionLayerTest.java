package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReductionLayerTest {
  @ParameterizedTest
  @ValueSource(strings = {"SUM", "ASUM", "SUMSQ", "MEAN"})
  void reducesTheTailAxes(String op) {
    Layer layer = layer("type: 'Reduction' reduction_param { operation: " + op + " axis: 1 coeff: 2.5 }");
    Blob x = gaussian(1, 1, 2, 3, 4);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {2}, top.get(0).shape());
    layer.forward(list(x), top);
    for (int n = 0; n < 2; n++) {
      double s = 0;
      for (int i = 0; i < 12; i++) {
        double v = x.data()[n * 12 + i];
        s += switch (op) {
          case "ASUM" -> Math.abs(v);
          case "SUMSQ" -> v * v;
          default -> v;
        };
      }
      if (op.equals("MEAN")) {
        s /= 12;
      }
      assertEquals(2.5 * s, top.get(0).data()[n], 1e-5);
    }
    GradientChecker checker = new GradientChecker(1e-2, 1e-3, 1701, 0, op.equals("ASUM") ? 1e-2 : -1);
    checker.checkExhaustive(layer("type: 'Reduction' reduction_param { operation: " + op + " axis: 1 coeff: 2.5 }"),
        list(gaussian(1, 1, 2, 3, 4)), tops(1), 0);
    assertChecked(checker);
  }
}
