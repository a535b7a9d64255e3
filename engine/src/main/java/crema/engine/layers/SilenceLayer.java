package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** Consumes bottoms and produces nothing, so unused outputs are not reported as net outputs. */
@LayerType("Silence")
final class SilenceLayer extends Layer {
  SilenceLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int minBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 0;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    for (int i = 0; i < bottom.size(); i++) {
      if (propagateDown[i]) {
        bottom.get(i).zeroDiff();
      }
    }
  }
}
