package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.engine.Blob;
import crema.engine.GradientChecker;
import crema.engine.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

class TileLayerTest {
  @Test
  void repeatsAlongTheAxis() {
    Layer layer = layer("type: 'Tile' tile_param { axis: 1 tiles: 3 }");
    Blob x = gaussian(1, 1, 2, 2, 2);
    List<Blob> top = tops(1);
    layer.setUp(list(x), top);
    assertArrayEquals(new int[] {2, 6, 2}, top.get(0).shape());
    layer.forward(list(x), top);
    for (int n = 0; n < 2; n++) {
      for (int t = 0; t < 3; t++) {
        for (int i = 0; i < 4; i++) {
          assertEquals(x.data()[n * 4 + i], top.get(0).data()[(n * 3 + t) * 4 + i]);
        }
      }
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    GradientChecker checker = new GradientChecker(1e-2, 1e-2);
    checker.checkExhaustive(layer("type: 'Tile' tile_param { axis: 0 tiles: 2 }"),
        list(gaussian(2, 1, 2, 3)), tops(1), 0);
    assertChecked(checker);
  }
}
