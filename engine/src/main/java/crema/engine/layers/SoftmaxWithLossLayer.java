package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.LossParameter.NormalizationMode;
import crema.engine.Blob;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;

/**
 * Softmax followed by the multinomial log loss, −log(max(p_label, FLT_MIN)), normalised as
 * loss_param says (VALID by default). A fully diverged net therefore reports 87.3365.
 */
@LayerType("SoftmaxWithLoss")
final class SoftmaxWithLossLayer extends LossLayer {
  /**
   * gpu/src/main/cuda/softmax_loss_layer.cu, one thread per row: loss[r] = −log(max(p[label],
   * FLT_MIN)) and dx = scale·(p − onehot); counted[r] is 1 unless the row's label is ignore_label
   * (when hasIgnore).
   */
  static final Kernel LOSS = Kernel.of("softmax_loss_layer",
      "crema_softmax_loss(int rows, int cols, const float* prob, const float* label, int hasIgnore,"
          + " int ignoreLabel, float scale, float* loss, float* counted, float* dx)",
      (r, a) -> {
        int cols = a.integer(1);
        float[] p = a.buffer(2);
        int l = (int) a.buffer(3)[r];
        boolean ignored = a.integer(4) != 0 && l == a.integer(5);
        float scale = a.real(6);
        float[] dx = a.buffer(9);
        for (int c = 0; c < cols; c++) {
          dx[r * cols + c] = ignored ? 0f : scale * (p[r * cols + c] - (c == l ? 1f : 0f));
        }
        a.buffer(7)[r] = ignored ? 0f : -(float) Math.log(Math.max(p[r * cols + l], Float.MIN_NORMAL));
        a.buffer(8)[r] = ignored ? 0f : 1f;
      });

  private final Blob prob = new Blob();
  private final boolean hasIgnoreLabel;
  private final int ignoreLabel;
  private final NormalizationMode mode;
  private int axis;
  private int outer;
  private int inner;

  SoftmaxWithLossLayer(LayerParameter param) {
    super(param);
    hasIgnoreLabel = param().getLossParam().hasIgnoreLabel();
    ignoreLabel = param().getLossParam().getIgnoreLabel();
    mode = normalization(param, NormalizationMode.VALID);
  }

  @Override
  protected int exactTops() {
    return -1;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected int maxTops() {
    return 2;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    top.get(0).reshape();
    axis = bottom.get(0).canonicalAxis(param().getSoftmaxParam().getAxis());
    outer = bottom.get(0).count(0, axis);
    inner = bottom.get(0).count(axis + 1);
    if (outer * inner != bottom.get(1).count()) {
      throw new IllegalArgumentException("Number of labels must match number of predictions; e.g., if"
          + " softmax axis == 1 and prediction shape is (N, C, H, W), label count (number of labels)"
          + " must be N*H*W, with integer values in {0, 1, ..., C-1}. Predictions "
          + bottom.get(0).shapeString() + ", labels " + bottom.get(1).shapeString());
    }
    prob.reshapeLike(bottom.get(0));
    if (top.size() > 1) {
      top.get(1).reshapeLike(bottom.get(0));
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    SoftmaxLayer.softmax(bottom.get(0), prob, axis);
    float[] p = prob.data();
    float[] label = bottom.get(1).data();
    int channels = bottom.get(0).shape(axis);
    float loss = 0;
    int count = 0;
    for (int i = 0; i < outer; i++) {
      for (int j = 0; j < inner; j++) {
        int l = (int) label[i * inner + j];
        if (hasIgnoreLabel && l == ignoreLabel) {
          continue;
        }
        if (l < 0 || l >= channels) {
          throw new IllegalArgumentException("label " + l + " out of range [0, " + channels + ")");
        }
        loss -= (float) Math.log(Math.max(p[i * channels * inner + l * inner + j], Float.MIN_NORMAL));
        count++;
      }
    }
    top.get(0).data()[0] = loss / normalizer(mode, outer, inner, count);
    if (top.size() == 2) {
      System.arraycopy(p, 0, top.get(1).data(), 0, prob.count());
    }
  }

  private final Blob rowLoss = new Blob(0);
  private final Blob rowCounted = new Blob(0);

  /** On a device(), rows of classes (inner size 1) run there. */
  @Override
  public boolean hasDevicePath() {
    return inner == 1;
  }

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    int channels = bottom.get(0).shape(axis);
    checkLabels(bottom.get(1), channels);
    device().launch(SoftmaxLayer.FORWARD, outer, outer, channels, bottom.get(0).deviceData(device()),
        prob.mutableDeviceData(device()));
    // The gradient at scale 1 goes into the bottom's diff, which nothing reads before backward
    // overwrites it (Caffe's GPU path uses it as scratch the same way).
    lossRows(bottom, channels, 1f);
    float[] l = rowLoss.dataReadOnly();
    float[] c = rowCounted.dataReadOnly();
    float loss = 0;
    int count = 0;
    for (int i = 0; i < outer; i++) {
      loss += l[i];
      count += (int) c[i];
    }
    top.get(0).data()[0] = loss / normalizer(mode, outer, inner, count);
    if (top.size() == 2) {
      device().copy(prob.count(), prob.deviceData(device()), top.get(1).mutableDeviceData(device()));
    }
  }

  private void lossRows(List<Blob> bottom, int channels, float scale) {
    rowLoss.reshape(outer);
    rowCounted.reshape(outer);
    device().launch(LOSS, outer, outer, channels, prob.deviceData(device()),
        bottom.get(1).deviceData(device()), hasIgnoreLabel ? 1 : 0, ignoreLabel, scale,
        rowLoss.mutableDeviceData(device()),
        rowCounted.mutableDeviceData(device()), bottom.get(0).mutableDeviceDiff(device()));
  }

  private void checkLabels(Blob labels, int channels) {
    float[] label = labels.dataReadOnly();
    for (int i = 0; i < labels.count(); i++) {
      int l = (int) label[i];
      if (!(hasIgnoreLabel && l == ignoreLabel) && (l < 0 || l >= channels)) {
        throw new IllegalArgumentException("label " + l + " out of range [0, " + channels + ")");
      }
    }
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown.length > 1 && propagateDown[1]) {
      throw new IllegalArgumentException("SoftmaxWithLoss cannot backpropagate to label inputs");
    }
    if (!propagateDown[0]) {
      return;
    }
    float[] c = rowCounted.dataReadOnly();
    int count = 0;
    for (int i = 0; i < outer; i++) {
      count += (int) c[i];
    }
    lossRows(bottom, bottom.get(0).shape(axis), topWeight(top) / normalizer(mode, outer, inner, count));
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown.length > 1 && propagateDown[1]) {
      throw new IllegalArgumentException("SoftmaxWithLoss cannot backpropagate to label inputs");
    }
    if (!propagateDown[0]) {
      return;
    }
    float[] d = bottom.get(0).diff();
    System.arraycopy(prob.data(), 0, d, 0, prob.count());
    float[] label = bottom.get(1).data();
    int channels = bottom.get(0).shape(axis);
    int count = 0;
    for (int i = 0; i < outer; i++) {
      for (int j = 0; j < inner; j++) {
        int l = (int) label[i * inner + j];
        if (hasIgnoreLabel && l == ignoreLabel) {
          for (int c = 0; c < channels; c++) {
            d[i * channels * inner + c * inner + j] = 0;
          }
        } else {
          d[i * channels * inner + l * inner + j] -= 1;
          count++;
        }
      }
    }
    float scale = topWeight(top) / normalizer(mode, outer, inner, count);
    math().scal(prob.count(), scale, d, 0);
  }
}
