package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;

/** A layer whose top holds the bottom's values in a new shape (Flatten, Reshape). */
abstract class CopyLayer extends Layer {
  CopyLayer(LayerParameter param) {
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
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    System.arraycopy(bottom.get(0).data(), 0, top.get(0).data(), 0, bottom.get(0).count());
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      System.arraycopy(top.get(0).diff(), 0, bottom.get(0).diff(), 0, bottom.get(0).count());
    }
  }
}
