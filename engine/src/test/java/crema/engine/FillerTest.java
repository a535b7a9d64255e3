package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.FillerParameter;
import crema.engine.io.Prototxt;
import org.junit.jupiter.api.Test;

class FillerTest {
  private static Blob fill(String text, int... shape) {
    FillerParameter.Builder b = FillerParameter.newBuilder();
    Prototxt.parse(text, "filler", b);
    Blob blob = new Blob(shape);
    Filler.fill(b.build(), blob, new Rng(1701));
    return blob;
  }

  private static double[] meanVar(Blob b) {
    double m = 0;
    for (int i = 0; i < b.count(); i++) {
      m += b.data()[i];
    }
    m /= b.count();
    double v = 0;
    for (int i = 0; i < b.count(); i++) {
      v += Math.pow(b.data()[i] - m, 2);
    }
    return new double[] {m, v / b.count()};
  }

  @Test
  void constantUniformGaussian() {
    assertEquals(2.5f, fill("type: 'constant' value: 2.5", 3, 4).data()[11]);
    Blob u = fill("type: 'uniform' min: -2 max: 3", 200, 100);
    for (int i = 0; i < u.count(); i++) {
      assertTrue(u.data()[i] >= -2 && u.data()[i] <= 3);
    }
    double[] g = meanVar(fill("type: 'gaussian' mean: 1 std: 0.5", 200, 100));
    assertEquals(1, g[0], 0.02);
    assertEquals(0.25, g[1], 0.01);
  }

  @Test
  void xavierAndMsraFollowTheirVarianceNorm() {
    // xavier: U[-s, s], s = sqrt(3/n): variance 1/n. fan_in = 1000/10, fan_out = 1000/20 (shape 10, 20, 5).
    assertEquals(1.0 / 100, meanVar(fill("type: 'xavier'", 10, 20, 5))[1], 1.0 / 100 * 0.1);
    assertEquals(1.0 / 50, meanVar(fill("type: 'xavier' variance_norm: FAN_OUT", 10, 20, 5))[1], 1.0 / 50 * 0.1);
    assertEquals(1.0 / 75, meanVar(fill("type: 'xavier' variance_norm: AVERAGE", 10, 20, 5))[1], 1.0 / 75 * 0.1);
    assertEquals(2.0 / 100, meanVar(fill("type: 'msra'", 10, 20, 5))[1], 2.0 / 100 * 0.1);
  }

  @Test
  void positiveUnitballRowsSumToOne() {
    Blob b = fill("type: 'positive_unitball'", 4, 5);
    for (int r = 0; r < 4; r++) {
      double s = 0;
      for (int j = 0; j < 5; j++) {
        assertTrue(b.data()[r * 5 + j] >= 0);
        s += b.data()[r * 5 + j];
      }
      assertEquals(1, s, 1e-6);
    }
  }

  @Test
  void sparseGaussianKeepsAboutSparseOverNumOutputs() {
    Blob b = fill("type: 'gaussian' sparse: 3", 10, 1000);
    int nonZero = 0;
    for (int i = 0; i < b.count(); i++) {
      nonZero += b.data()[i] != 0 ? 1 : 0;
    }
    assertEquals(0.3, nonZero / 10000.0, 0.02);
  }

  @Test
  void bilinearIsTheUpsamplingKernel() {
    Blob b = fill("type: 'bilinear'", 1, 1, 4, 4);
    // K = 4: f = 2, c = 3/4; weights along an axis 0.25, 0.75, 0.75, 0.25.
    float[] w = {0.25f, 0.75f, 0.75f, 0.25f};
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        assertEquals(w[y] * w[x], b.data()[y * 4 + x], 1e-6);
      }
    }
  }

  @Test
  void unknownFillerIsNamed() {
    var e = assertThrows(IllegalArgumentException.class, () -> fill("type: 'xavierr'", 2, 2));
    assertTrue(e.getMessage().contains("Unknown filler name: xavierr"));
  }
}
