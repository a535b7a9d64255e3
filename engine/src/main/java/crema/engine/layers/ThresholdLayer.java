package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** 1 where x > threshold, else 0. Its gradient is zero wherever it exists. */
@LayerType("Threshold")
final class ThresholdLayer extends NeuronLayer {
  final float threshold = param().getThresholdParam().getThreshold();

  ThresholdLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = x > threshold ? 1f : 0f;
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
      bottomDiff[i] = 0f;
    }
  }
}
