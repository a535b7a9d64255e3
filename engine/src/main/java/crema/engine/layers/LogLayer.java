package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** log_base(shift + scale·x); base −1 means e. */
@LayerType("Log")
final class LogLayer extends NeuronLayer {
  final float base = param().getLogParam().getBase();
  final float scale = param().getLogParam().getScale();
  final float shift = param().getLogParam().getShift();
  final float baseScale;
  {
    if (base != -1 && base <= 0) {
      throw new IllegalArgumentException("base must be strictly positive (or -1 for e), got " + base);
    }
    baseScale = base == -1 ? 1f : (float) (1 / Math.log(base));
  }

  LogLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = (float) Math.log(shift + scale * x) * baseScale;
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] in = input(bottom, top);
    float[] out = top.get(0).data();
    float[] topDiff = top.get(0).diff();
    float[] bottomDiff = bottom.get(0).diff();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      float y = out[i];
      float d = topDiff[i];
      bottomDiff[i] = d * baseScale * scale / (shift + scale * x);
    }
  }
}
