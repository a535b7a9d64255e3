package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.LossParameter.NormalizationMode;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * The logistic loss of logits x against targets t in [0, 1], computed stably, normalised by the
 * batch size unless loss_param says otherwise (Caffe's historical default for this layer).
 */
@LayerType("SigmoidCrossEntropyLoss")
final class SigmoidCrossEntropyLossLayer extends LossLayer {
  private final boolean hasIgnoreLabel;
  private final int ignoreLabel;
  private final NormalizationMode mode;
  private int validCount;

  SigmoidCrossEntropyLossLayer(LayerParameter param) {
    super(param);
    hasIgnoreLabel = param().getLossParam().hasIgnoreLabel();
    ignoreLabel = param().getLossParam().getIgnoreLabel();
    mode = normalization(param, NormalizationMode.BATCH_SIZE);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    super.reshape(bottom, top);
    if (bottom.get(0).count() != bottom.get(1).count()) {
      throw new IllegalArgumentException("SigmoidCrossEntropyLoss needs inputs of the same count ("
          + bottom.get(0).shapeString() + " vs " + bottom.get(1).shapeString() + ")");
    }
  }

  private boolean ignored(float t) {
    return hasIgnoreLabel && (int) t == ignoreLabel;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] x = bottom.get(0).data();
    float[] t = bottom.get(1).data();
    int n = bottom.get(0).count();
    float loss = 0;
    validCount = 0;
    for (int i = 0; i < n; i++) {
      if (ignored(t[i])) {
        continue;
      }
      float pos = x[i] >= 0 ? 1f : 0f;
      loss -= x[i] * (t[i] - pos) - (float) Math.log1p(Math.exp(x[i] - 2 * x[i] * pos));
      validCount++;
    }
    int num = bottom.get(0).shape(0);
    top.get(0).data()[0] = loss / normalizer(mode, num, n / num, validCount);
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown.length > 1 && propagateDown[1]) {
      throw new IllegalArgumentException("SigmoidCrossEntropyLoss cannot backpropagate to label inputs");
    }
    if (!propagateDown[0]) {
      return;
    }
    float[] x = bottom.get(0).data();
    float[] t = bottom.get(1).data();
    float[] d = bottom.get(0).diff();
    int n = bottom.get(0).count();
    int num = bottom.get(0).shape(0);
    float scale = topWeight(top) / normalizer(mode, num, n / num, validCount);
    for (int i = 0; i < n; i++) {
      float s = 0.5f * (float) Math.tanh(0.5f * x[i]) + 0.5f;
      d[i] = ignored(t[i]) ? 0f : (s - t[i]) * scale;
    }
  }
}
