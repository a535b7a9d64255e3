package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;

/** max(x, 0) + negative_slope·min(x, 0): ReLU, or leaky ReLU. */
@LayerType("ReLU")
final class ReLULayer extends NeuronLayer {
  private static final int ONE_BITS = Float.floatToRawIntBits(1f);
  final float slope = param().getReluParam().getNegativeSlope();
  final int slopeBits = Float.floatToRawIntBits(slope);

  /** gpu/src/main/cuda/relu_layer.cu. */
  static final Kernel FORWARD = Kernel.of("relu_layer",
      "crema_relu_forward(int n, float slope, const float* x, float* y)", (i, a) -> {
        float x = a.buffer(2)[i];
        a.buffer(3)[i] = x > 0f ? x : a.real(1) * x;
      });
  static final Kernel BACKWARD = Kernel.of("relu_layer",
      "crema_relu_backward(int n, float slope, const float* x, const float* dy, float* dx)",
      (i, a) -> a.buffer(4)[i] = a.buffer(3)[i] * (a.buffer(2)[i] > 0f ? 1f : a.real(1)));

  ReLULayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    for (int i = 0, n = bottom.get(0).count(); i < n; i++) {
      float x = in[i];
      out[i] = Math.max(x, 0f) + slope * Math.min(x, 0f);
    }
  }

  @Override
  public boolean hasDevicePath() {
    return true;
  }

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    int n = bottom.get(0).count();
    device().launch(FORWARD, n, n, slope, bottom.get(0).deviceData(device()),
        top.get(0).mutableDeviceData(device()));
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      // In place the bottom holds y, whose sign is x's: all the kernel looks at.
      int n = bottom.get(0).count();
      device().launch(BACKWARD, n, n, slope, bottom.get(0).deviceData(device()),
          top.get(0).deviceDiff(device()), bottom.get(0).mutableDeviceDiff(device()));
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
      bottomDiff[i] = d * Float.intBitsToFloat(positive(x) * ONE_BITS + (1 - positive(x)) * slopeBits);
    }
  }

  /**
   * 1 where x > 0, else 0 (−0 and NaN included), without a branch: the signs of the inputs are
   * random after dropout, and a mispredicted branch per element costs more than the arithmetic.
   */
  static int positive(float x) {
    int b = Float.floatToRawIntBits(x);
    return ((-b) & ~b) >>> 31;
  }
}
