package crema.engine.layers;

import caffe.Caffe.HingeLossParameter.Norm;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * One-vs-all hinge loss: for each class j, max(0, 1 − δ(j = label)·x_j + δ(j ≠ label)·x_j), summed
 * (L1) or squared and summed (L2), divided by the batch size.
 */
@LayerType("HingeLoss")
final class HingeLossLayer extends LossLayer {
  private final Norm norm;
  private float[] margins = new float[0];

  HingeLossLayer(LayerParameter param) {
    super(param);
    norm = param().getHingeLossParam().getNorm();
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int count = b.count();
    int dim = count / num;
    if (margins.length < count) {
      margins = new float[count];
    }
    float[] x = b.data();
    float[] label = bottom.get(1).data();
    for (int i = 0; i < num; i++) {
      int l = (int) label[i];
      for (int j = 0; j < dim; j++) {
        float v = j == l ? -x[i * dim + j] : x[i * dim + j];
        margins[i * dim + j] = Math.max(0f, 1 + v);
      }
    }
    float loss = norm == Norm.L2 ? math().dot(count, margins, 0, margins, 0) : math().asum(count, margins, 0);
    top.get(0).data()[0] = loss / num;
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown.length > 1 && propagateDown[1]) {
      throw new IllegalArgumentException("HingeLoss cannot backpropagate to label inputs");
    }
    if (!propagateDown[0]) {
      return;
    }
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int count = b.count();
    int dim = count / num;
    float[] d = b.diff();
    float[] label = bottom.get(1).data();
    float w = topWeight(top);
    for (int i = 0; i < num; i++) {
      int l = (int) label[i];
      for (int j = 0; j < dim; j++) {
        float m = margins[i * dim + j];
        float g = norm == Norm.L2 ? 2 * m : (m > 0 ? 1f : 0f);
        d[i * dim + j] = (j == l ? -g : g) * w / num;
      }
    }
  }
}
