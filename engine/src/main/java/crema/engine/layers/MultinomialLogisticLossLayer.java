package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/** −N⁻¹·Σ log(max(p_label, 1e-20)) of probabilities p (the output of a Softmax). */
@LayerType("MultinomialLogisticLoss")
final class MultinomialLogisticLossLayer extends LossLayer {
  private static final float LOG_THRESHOLD = 1e-20f;

  MultinomialLogisticLossLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int dim = b.count() / num;
    float[] p = b.data();
    float[] label = bottom.get(1).data();
    float loss = 0;
    for (int i = 0; i < num; i++) {
      int l = (int) label[i];
      if (l < 0 || l >= dim) {
        throw new IllegalArgumentException("label " + l + " out of range [0, " + dim + ")");
      }
      loss -= (float) Math.log(Math.max(p[i * dim + l], LOG_THRESHOLD));
    }
    top.get(0).data()[0] = loss / num;
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown.length > 1 && propagateDown[1]) {
      throw new IllegalArgumentException("MultinomialLogisticLoss cannot backpropagate to label inputs");
    }
    if (!propagateDown[0]) {
      return;
    }
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int dim = b.count() / num;
    float[] p = b.data();
    float[] d = b.diff();
    Arrays.fill(d, 0, b.count(), 0f);
    float scale = -topWeight(top) / num;
    float[] label = bottom.get(1).data();
    for (int i = 0; i < num; i++) {
      int l = (int) label[i];
      d[i * dim + l] = scale / Math.max(p[i * dim + l], LOG_THRESHOLD);
    }
  }
}
