package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/** ½N⁻¹·Σ(a − b)²; both inputs take gradients. */
@LayerType("EuclideanLoss")
final class EuclideanLossLayer extends LossLayer {
  private final Blob diff = new Blob();

  EuclideanLossLayer(LayerParameter param) {
    super(param);
  }

  @Override
  public boolean allowForceBackward(int bottomIndex) {
    return true;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    super.reshape(bottom, top);
    if (bottom.get(0).count(1) != bottom.get(1).count(1)) {
      throw new IllegalArgumentException("Inputs must have the same dimension ("
          + bottom.get(0).shapeString() + " vs " + bottom.get(1).shapeString() + ")");
    }
    diff.reshapeLike(bottom.get(0));
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    int n = bottom.get(0).count();
    float[] a = bottom.get(0).data();
    float[] b = bottom.get(1).data();
    float[] d = diff.data();
    for (int i = 0; i < n; i++) {
      d[i] = a[i] - b[i];
    }
    float dot = math().dot(n, d, 0, d, 0);
    top.get(0).data()[0] = dot / bottom.get(0).shape(0) / 2f;
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    for (int i = 0; i < 2; i++) {
      if (propagateDown[i]) {
        float sign = i == 0 ? 1f : -1f;
        float alpha = sign * topWeight(top) / bottom.get(i).shape(0);
        int n = bottom.get(i).count();
        float[] out = bottom.get(i).diff();
        float[] d = diff.data();
        for (int k = 0; k < n; k++) {
          out[k] = alpha * d[k];
        }
      }
    }
  }
}
