package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class EltwiseLayerTest {
  private static List<Blob> bottoms() {
    return list(uniform(1, -1, 1, 2, 3, 2), uniform(2, -1, 1, 2, 3, 2), uniform(3, -1, 1, 2, 3, 2));
  }

  private static float[] forward(String proto, List<Blob> bottom) {
    Layer layer = layer(proto);
    List<Blob> top = tops(1);
    layer.setUp(bottom, top);
    layer.forward(bottom, top);
    return top.get(0).data();
  }

  @Test
  void productSumWithCoefficientsAndMax() {
    List<Blob> b = bottoms();
    float[] prod = forward("type: 'Eltwise' eltwise_param { operation: PROD }", b);
    float[] sum = forward("type: 'Eltwise' eltwise_param { operation: SUM coeff: 1 coeff: -0.5 coeff: 2 }", b);
    float[] max = forward("type: 'Eltwise' eltwise_param { operation: MAX }", b);
    for (int i = 0; i < 12; i++) {
      float x = b.get(0).data()[i];
      float y = b.get(1).data()[i];
      float z = b.get(2).data()[i];
      assertEquals(x * y * z, prod[i], 1e-6);
      assertEquals(x - 0.5f * y + 2 * z, sum[i], 1e-6);
      assertEquals(Math.max(x, Math.max(y, z)), max[i]);
    }
  }

  @Test
  void gradientsOfEveryOperation() {
    for (String op : new String[] {"PROD", "SUM coeff: 1 coeff: -0.5 coeff: 2", "MAX"}) {
      GradientChecker checker = op.equals("MAX") ? new GradientChecker(1e-4, 1e-2) : new GradientChecker(1e-2, 1e-3);
      checker.checkExhaustive(layer("type: 'Eltwise' eltwise_param { operation: " + op + " }"), bottoms(), tops(1), -1);
      assertChecked(checker);
    }
    GradientChecker unstable = new GradientChecker(1e-2, 1e-3);
    unstable.checkExhaustive(layer("type: 'Eltwise' eltwise_param { operation: PROD stable_prod_grad: false }"),
        list(uniform(4, 0.5, 1.5, 2, 3), uniform(5, 0.5, 1.5, 2, 3)), tops(1), -1);
    assertChecked(unstable);
  }
}
