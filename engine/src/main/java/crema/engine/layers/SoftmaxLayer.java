package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;

/** Softmax along {@code softmax_param.axis}, with the maximum subtracted for stability. */
@LayerType("Softmax")
final class SoftmaxLayer extends Layer {
  /**
   * gpu/src/main/cuda/softmax_layer.cu: one thread per row of a rows × cols matrix (examples ×
   * classes), max-shifted as on the CPU. SoftmaxWithLoss runs it too.
   */
  static final Kernel FORWARD = Kernel.of("softmax_layer",
      "crema_softmax_forward(int rows, int cols, const float* x, float* y)", (r, a) -> {
        int cols = a.integer(1);
        float[] x = a.buffer(2);
        float[] y = a.buffer(3);
        int o = r * cols;
        float m = x[o];
        for (int c = 1; c < cols; c++) {
          m = Math.max(m, x[o + c]);
        }
        float s = 0f;
        for (int c = 0; c < cols; c++) {
          y[o + c] = (float) Math.exp(x[o + c] - m);
          s += y[o + c];
        }
        for (int c = 0; c < cols; c++) {
          y[o + c] /= s;
        }
      });
  /** dx = (dy − Σ_c dy·y)·y per row. */
  static final Kernel BACKWARD = Kernel.of("softmax_layer",
      "crema_softmax_backward(int rows, int cols, const float* y, const float* dy, float* dx)",
      (r, a) -> {
        int cols = a.integer(1);
        float[] y = a.buffer(2);
        float[] dy = a.buffer(3);
        float[] dx = a.buffer(4);
        int o = r * cols;
        float dot = 0f;
        for (int c = 0; c < cols; c++) {
          dot += dy[o + c] * y[o + c];
        }
        for (int c = 0; c < cols; c++) {
          dx[o + c] = (dy[o + c] - dot) * y[o + c];
        }
      });

  private int axis;

  SoftmaxLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    axis = bottom.get(0).canonicalAxis(param().getSoftmaxParam().getAxis());
    top.get(0).reshapeLike(bottom.get(0));
    innerIsOne = bottom.get(0).count(axis + 1) == 1;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    softmax(bottom.get(0), top.get(0), axis);
  }

  /** top = softmax(bottom) along axis; top may be bottom. */
  static void softmax(Blob bottom, Blob top, int axis) {
    int outer = bottom.count(0, axis);
    int channels = bottom.shape(axis);
    int inner = bottom.count(axis + 1);
    float[] in = bottom.data();
    float[] out = top.data();
    for (int o = 0; o < outer; o++) {
      int base = o * channels * inner;
      for (int k = 0; k < inner; k++) {
        float max = in[base + k];
        for (int c = 1; c < channels; c++) {
          max = Math.max(max, in[base + c * inner + k]);
        }
        float sum = 0;
        for (int c = 0; c < channels; c++) {
          int idx = base + c * inner + k;
          out[idx] = (float) Math.exp(in[idx] - max);
          sum += out[idx];
        }
        for (int c = 0; c < channels; c++) {
          out[base + c * inner + k] /= sum;
        }
      }
    }
  }

  /** On a device(), rows of classes (inner size 1, the usual N × C) run there. */
  @Override
  public boolean hasDevicePath() {
    return innerIsOne;
  }

  private boolean innerIsOne;

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int rows = b.count(0, axis);
    device().launch(FORWARD, rows, rows, b.shape(axis), b.deviceData(device()),
        top.get(0).mutableDeviceData(device()));
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      Blob t = top.get(0);
      int rows = t.count(0, axis);
      device().launch(BACKWARD, rows, rows, t.shape(axis), t.deviceData(device()),
          t.deviceDiff(device()), bottom.get(0).mutableDeviceDiff(device()));
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    Blob t = top.get(0);
    int outer = t.count(0, axis);
    int channels = t.shape(axis);
    int inner = t.count(axis + 1);
    float[] y = t.data();
    float[] dy = t.diff();
    float[] dx = bottom.get(0).diff();
    for (int o = 0; o < outer; o++) {
      int base = o * channels * inner;
      for (int k = 0; k < inner; k++) {
        float dot = 0;
        for (int c = 0; c < channels; c++) {
          dot += dy[base + c * inner + k] * y[base + c * inner + k];
        }
        for (int c = 0; c < channels; c++) {
          int idx = base + c * inner + k;
          dx[idx] = (dy[idx] - dot) * y[idx];
        }
      }
    }
  }
}
