package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** Repeats the bottom {@code tiles} times along {@code axis}. */
@LayerType("Tile")
final class TileLayer extends Layer {
  private int outer;
  private int inner;
  private int tiles;

  TileLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int axis = b.canonicalAxis(param().getTileParam().getAxis());
    tiles = param().getTileParam().getTiles();
    if (tiles < 1) {
      throw new IllegalArgumentException("tile_param.tiles must be positive, got " + tiles);
    }
    int[] shape = b.shape();
    shape[axis] *= tiles;
    top.get(0).reshape(shape);
    outer = b.count(0, axis);
    inner = b.count(axis);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] x = bottom.get(0).data();
    float[] y = top.get(0).data();
    for (int o = 0; o < outer; o++) {
      for (int t = 0; t < tiles; t++) {
        System.arraycopy(x, o * inner, y, (o * tiles + t) * inner, inner);
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] dx = bottom.get(0).diff();
    float[] dy = top.get(0).diff();
    for (int o = 0; o < outer; o++) {
      System.arraycopy(dy, o * tiles * inner, dx, o * inner, inner);
      for (int t = 1; t < tiles; t++) {
        math().axpy(inner, 1f, dy, (o * tiles + t) * inner, dx, o * inner);
      }
    }
  }
}
