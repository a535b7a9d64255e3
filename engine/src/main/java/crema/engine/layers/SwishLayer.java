package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** x·σ(βx). */
@LayerType("Swish")
final class SwishLayer extends NeuronLayer {
  final float beta = param().getSwishParam().getBeta();

  SwishLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = x * sigmoid(beta * x);
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
      bottomDiff[i] = d * (beta * y + sigmoid(beta * x) * (1 - beta * y));
    }
  }
  private static float sigmoid(float v) {
    return 0.5f * (float) Math.tanh(0.5f * v) + 0.5f;
  }
}
