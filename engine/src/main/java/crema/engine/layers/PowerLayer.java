package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** (shift + scale·x)^power. */
@LayerType("Power")
final class PowerLayer extends NeuronLayer {
  final float power = param().getPowerParam().getPower();
  final float scale = param().getPowerParam().getScale();
  final float shift = param().getPowerParam().getShift();

  PowerLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = (float) Math.pow(shift + scale * x, power);
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
      bottomDiff[i] = d * slope(x);
    }
  }
  private float slope(float x) {
    float diffScale = power * scale;
    if (diffScale == 0 || power == 0) {
      return 0f;
    }
    if (power == 1) {
      return scale;
    }
    return diffScale * (float) Math.pow(shift + scale * x, power - 1);
  }
}
