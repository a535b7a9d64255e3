package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.ReductionParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/** SUM, ASUM, SUMSQ or MEAN over the axes from {@code axis} to the end, times coeff. */
@LayerType("Reduction")
final class ReductionLayer extends Layer {
  private final ReductionParameter p;
  private int num;
  private int dim;

  ReductionLayer(LayerParameter param) {
    super(param);
    p = param().getReductionParam();
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
    Blob b = bottom.get(0);
    int axis = b.canonicalAxis(p.getAxis());
    top.get(0).reshape(Arrays.copyOf(b.shape(), axis));
    num = b.count(0, axis);
    dim = b.count(axis);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] x = bottom.get(0).data();
    float[] y = top.get(0).data();
    for (int i = 0; i < num; i++) {
      float s = 0;
      for (int j = 0; j < dim; j++) {
        float v = x[i * dim + j];
        s += switch (p.getOperation()) {
          case SUM, MEAN -> v;
          case ASUM -> Math.abs(v);
          case SUMSQ -> v * v;
        };
      }
      if (p.getOperation() == ReductionParameter.ReductionOp.MEAN) {
        s /= dim;
      }
      y[i] = s * p.getCoeff();
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] x = bottom.get(0).data();
    float[] dx = bottom.get(0).diff();
    float[] dy = top.get(0).diff();
    for (int i = 0; i < num; i++) {
      float g = dy[i] * p.getCoeff();
      for (int j = 0; j < dim; j++) {
        float v = x[i * dim + j];
        dx[i * dim + j] = switch (p.getOperation()) {
          case SUM -> g;
          case MEAN -> g / dim;
          case ASUM -> g * Math.signum(v);
          case SUMSQ -> 2 * g * v;
        };
      }
    }
  }
}
