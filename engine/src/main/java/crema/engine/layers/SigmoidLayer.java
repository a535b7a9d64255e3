package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;

/** The logistic function 1 / (1 + exp(−x)). */
@LayerType("Sigmoid")
final class SigmoidLayer extends NeuronLayer {
  /** gpu/src/main/cuda/sigmoid_layer.cu. */
  static final Kernel FORWARD = Kernel.of("sigmoid_layer",
      "crema_sigmoid_forward(int n, const float* x, float* y)",
      (i, a) -> a.buffer(2)[i] = 0.5f * (float) Math.tanh(0.5f * a.buffer(1)[i]) + 0.5f);
  static final Kernel BACKWARD = Kernel.of("sigmoid_layer",
      "crema_sigmoid_backward(int n, const float* y, const float* dy, float* dx)", (i, a) -> {
        float y = a.buffer(1)[i];
        a.buffer(3)[i] = a.buffer(2)[i] * y * (1f - y);
      });

  SigmoidLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = 0.5f * (float) Math.tanh(0.5f * x) + 0.5f;
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
      bottomDiff[i] = d * y * (1 - y);
    }
  }
}
