package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** x for x > 0, alpha·(exp(x) − 1) otherwise. */
@LayerType("ELU")
final class ELULayer extends NeuronLayer {
  final float alpha = param().getEluParam().getAlpha();

  ELULayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = x > 0 ? x : alpha * ((float) Math.exp(x) - 1);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    // In place, the input is gone, but y > 0 exactly where x > 0, which is all backward needs.
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    float[] topDiff = top.get(0).diff();
    float[] bottomDiff = bottom.get(0).diff();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      float y = out[i];
      float d = topDiff[i];
      bottomDiff[i] = x > 0 ? d : d * (y + alpha);
    }
  }
}
