package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class Im2colLayerTest {
  private static final String PROTO = "type: 'Im2col' convolution_param { kernel_size: 3 stride: 2 pad: 1 }";

  /** Row (c, u, v), column (i, j) holds x[c][i·2 − 1 + u][j·2 − 1 + v], zero in the padding. */
  @Test
  void columnsAreTheWindowsInChannelKernelOrder() {
    Layer layer = layer(PROTO);
    Blob x = gaussian(1, 1, 2, 3, 7, 6);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {2, 27, 4, 3}, top.get(0).shape());
    layer.forward(list(x), top);
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 3; c++) {
        for (int u = 0; u < 3; u++) {
          for (int v = 0; v < 3; v++) {
            for (int i = 0; i < 4; i++) {
              for (int j = 0; j < 3; j++) {
                int r = i * 2 - 1 + u;
                int q = j * 2 - 1 + v;
                float expected = r >= 0 && r < 7 && q >= 0 && q < 6 ? x.data()[x.offset(n, c, r, q)] : 0f;
                int row = (c * 3 + u) * 3 + v;
                assertEquals(expected, top.get(0).data()[top.get(0).offset(n, row, i, j)]);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer(PROTO), list(gaussian(2, 1, 2, 2, 5, 4)), tops(1), -1);
    assertChecked(checker);
  }
}
