package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** Copies one blob to several tops; their gradients sum into the bottom. Inserted by the net. */
@LayerType("Split")
final class SplitLayer extends Layer {
  SplitLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    for (Blob t : top) {
      if (t != bottom.get(0)) {
        t.reshapeLike(bottom.get(0));
      }
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    for (Blob t : top) {
      if (t != b) {
        System.arraycopy(b.data(), 0, t.data(), 0, b.count());
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    Blob b = bottom.get(0);
    System.arraycopy(top.get(0).diff(), 0, b.diff(), 0, b.count());
    for (int i = 1; i < top.size(); i++) {
      math().axpy(b.count(), 1f, top.get(i).diff(), 0, b.diff(), 0);
    }
  }
}
