package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import crema.engine.NetException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CropLayerTest {
  private static float at(Blob b, int n, int c, int h, int w) {
    return b.data()[((n * b.shape(1) + c) * b.shape(2) + h) * b.shape(3) + w];
  }

  @Test
  void cropsTheSpatialAxesAtPerAxisOffsets() {
    Layer layer = layer("type: 'Crop' crop_param { axis: 2 offset: 1 offset: 2 }");
    Blob x = gaussian(41, 1, 2, 3, 5, 6);
    Blob ref = new Blob(1, 1, 3, 2);
    List<Blob> top = tops(1);
    layer.setUp(list(x, ref), top);
    layer.forward(list(x, ref), top);
    Blob y = top.get(0);
    assertArrayEquals(new int[] {2, 3, 3, 2}, y.shape());
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 3; c++) {
        for (int h = 0; h < 3; h++) {
          for (int w = 0; w < 2; w++) {
            assertEquals(at(x, n, c, h + 1, w + 2), at(y, n, c, h, w));
          }
        }
      }
    }
  }

  @Test
  void oneOffsetForEveryAxisFromAxisOne() {
    Layer layer = layer("type: 'Crop' crop_param { axis: 1 offset: 1 }");
    Blob x = gaussian(42, 1, 2, 3, 4, 4);
    Blob ref = new Blob(7, 2, 2, 3);
    List<Blob> top = tops(1);
    layer.setUp(list(x, ref), top);
    layer.forward(list(x, ref), top);
    Blob y = top.get(0);
    assertArrayEquals(new int[] {2, 2, 2, 3}, y.shape());
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 2; c++) {
        for (int h = 0; h < 2; h++) {
          for (int w = 0; w < 3; w++) {
            assertEquals(at(x, n, c + 1, h + 1, w + 1), at(y, n, c, h, w));
          }
        }
      }
    }
  }

  @Test
  void backwardWritesTheCroppedRegionAndZerosElsewhere() {
    Layer layer = layer("type: 'Crop' crop_param { offset: 1 offset: 0 }");
    Blob x = gaussian(43, 1, 1, 1, 3, 3);
    List<Blob> top = tops(1);
    Blob ref = new Blob(1, 1, 2, 2);
    layer.setUp(list(x, ref), top);
    layer.forward(list(x, ref), top);
    java.util.Arrays.fill(x.diff(), 9f);
    System.arraycopy(new float[] {1, 2, 3, 4}, 0, top.get(0).diff(), 0, 4);
    layer.backward(top, new boolean[] {true, false}, list(x, ref));
    assertArrayEquals(new float[] {0, 0, 0, 1, 2, 0, 3, 4, 0}, x.diff());
  }

  @Test
  void gradient() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-3);
    checker.checkExhaustive(layer("type: 'Crop' crop_param { axis: 1 offset: 1 offset: 2 offset: 0 }"),
        list(gaussian(44, 1, 2, 3, 5, 4), new Blob(2, 2, 3, 3)), tops(1), 0);
    assertChecked(checker);
  }

  private static void assertRejected(String proto, Blob x, Blob ref, String words) {
    Layer layer = layer("name: 'crop1' " + proto);
    NetException e = assertThrows(NetException.class, () -> layer.setUp(list(x, ref), tops(1)));
    assertTrue(e.getMessage().contains("crop1") && e.getMessage().contains(words), e.getMessage());
  }

  @Test
  void cropsThatDoNotFitAreRejected() {
    Blob x = new Blob(1, 2, 5, 5);
    assertRejected("type: 'Crop' crop_param { offset: 2 }", x, new Blob(1, 2, 4, 4),
        "out-of-bounds with size 4 and offset 2");
    assertRejected("type: 'Crop'", x, new Blob(1, 2, 6, 5), "out-of-bounds");
    assertRejected("type: 'Crop' crop_param { offset: 1 offset: 1 offset: 1 }", x, new Blob(1, 2, 3, 3),
        "number of offset values");
    assertRejected("type: 'Crop' crop_param { axis: 4 }", x, new Blob(1, 2, 3, 3), "axis");
  }
}
