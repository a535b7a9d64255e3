package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;

/** The hyperbolic tangent. */
@LayerType("TanH")
final class TanHLayer extends NeuronLayer {
  /** gpu/src/main/cuda/tanh_layer.cu. */
  static final Kernel FORWARD = Kernel.of("tanh_layer",
      "crema_tanh_forward(int n, const float* x, float* y)",
      (i, a) -> a.buffer(2)[i] = (float) Math.tanh(a.buffer(1)[i]));
  static final Kernel BACKWARD = Kernel.of("tanh_layer",
      "crema_tanh_backward(int n, const float* y, const float* dy, float* dx)", (i, a) -> {
        float y = a.buffer(1)[i];
        a.buffer(3)[i] = a.buffer(2)[i] * (1f - y * y);
      });

  TanHLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = (float) Math.tanh(x);
    }
  }

  @Override
  public boolean hasDevicePath() {
    return true;
  }

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    int n = bottom.get(0).count();
    device().launch(FORWARD, n, n, bottom.get(0).deviceData(device()),
        top.get(0).mutableDeviceData(device()));
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      int n = bottom.get(0).count();
      device().launch(BACKWARD, n, n, top.get(0).deviceData(device()),
          top.get(0).deviceDiff(device()), bottom.get(0).mutableDeviceDiff(device()));
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
      bottomDiff[i] = d * (1 - y * y);
    }
  }
}
