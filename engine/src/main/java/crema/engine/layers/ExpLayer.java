package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** base^(shift + scale·x); base −1 means e. */
@LayerType("Exp")
final class ExpLayer extends NeuronLayer {
  final float base = param().getExpParam().getBase();
  final float innerScale;
  final float outerScale;
  {
    if (base != -1 && base <= 0) {
      throw new IllegalArgumentException("base must be strictly positive (or -1 for e), got " + base);
    }
    double logBase = base == -1 ? 1.0 : Math.log(base);
    innerScale = (float) (logBase * param().getExpParam().getScale());
    float shift = param().getExpParam().getShift();
    outerScale = shift == 0 ? 1f : (float) (base == -1 ? Math.exp(shift) : Math.pow(base, shift));
  }

  ExpLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = outerScale * (float) Math.exp(innerScale * x);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] out = top.get(0).data();
    float[] topDiff = top.get(0).diff();
    float[] bottomDiff = bottom.get(0).diff();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float y = out[i];
      float d = topDiff[i];
      bottomDiff[i] = d * y * innerScale;
    }
  }
}
