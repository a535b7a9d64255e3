package crema.engine.layers;

import caffe.Caffe.EltwiseParameter.EltwiseOp;
import caffe.Caffe.EltwiseParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/** Element-wise PROD, SUM (with coefficients) or MAX of bottoms of one shape. */
@LayerType("Eltwise")
final class EltwiseLayer extends Layer {
  private final EltwiseParameter p;
  private float[] coeff;
  private int[] argmax = new int[0];

  EltwiseLayer(LayerParameter param) {
    super(param);
    p = param().getEltwiseParam();
  }

  @Override
  protected int minBottoms() {
    return 2;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (p.getCoeffCount() > 0 && p.getOperation() != EltwiseOp.SUM) {
      throw new IllegalArgumentException("Eltwise layer only takes coefficients for summation.");
    }
    if (p.getCoeffCount() > 0 && p.getCoeffCount() != bottom.size()) {
      throw new IllegalArgumentException("Eltwise Layer takes one coefficient per bottom blob ("
          + bottom.size() + " bottoms, " + p.getCoeffCount() + " coefficients)");
    }
    coeff = new float[bottom.size()];
    for (int i = 0; i < coeff.length; i++) {
      coeff[i] = p.getCoeffCount() > 0 ? p.getCoeff(i) : 1f;
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    for (Blob b : bottom) {
      if (!Arrays.equals(b.shape(), bottom.get(0).shape())) {
        throw new IllegalArgumentException("Eltwise bottoms must have the same shape ("
            + bottom.get(0).shapeString() + " vs " + b.shapeString() + ")");
      }
    }
    top.get(0).reshapeLike(bottom.get(0));
    if (p.getOperation() == EltwiseOp.MAX && argmax.length < top.get(0).count()) {
      argmax = new int[top.get(0).count()];
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    int n = top.get(0).count();
    float[] y = top.get(0).data();
    switch (p.getOperation()) {
      case PROD -> {
        System.arraycopy(bottom.get(0).data(), 0, y, 0, n);
        for (int b = 1; b < bottom.size(); b++) {
          float[] x = bottom.get(b).data();
          for (int i = 0; i < n; i++) {
            y[i] *= x[i];
          }
        }
      }
      case SUM -> {
        Arrays.fill(y, 0, n, 0f);
        for (int b = 0; b < bottom.size(); b++) {
          math().axpy(n, coeff[b], bottom.get(b).data(), 0, y, 0);
        }
      }
      case MAX -> {
        System.arraycopy(bottom.get(0).data(), 0, y, 0, n);
        Arrays.fill(argmax, 0, n, 0);
        for (int b = 1; b < bottom.size(); b++) {
          float[] x = bottom.get(b).data();
          for (int i = 0; i < n; i++) {
            if (x[i] > y[i]) {
              y[i] = x[i];
              argmax[i] = b;
            }
          }
        }
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    int n = top.get(0).count();
    float[] dy = top.get(0).diff();
    float[] y = top.get(0).data();
    for (int b = 0; b < bottom.size(); b++) {
      if (!propagateDown[b]) {
        continue;
      }
      float[] x = bottom.get(b).data();
      float[] dx = bottom.get(b).diff();
      switch (p.getOperation()) {
        case PROD -> {
          for (int i = 0; i < n; i++) {
            float others;
            if (p.getStableProdGrad()) {
              others = 1f;
              for (int j = 0; j < bottom.size(); j++) {
                if (j != b) {
                  others *= bottom.get(j).data()[i];
                }
              }
            } else {
              others = y[i] / x[i];
            }
            dx[i] = dy[i] * others;
          }
        }
        case SUM -> {
          for (int i = 0; i < n; i++) {
            dx[i] = coeff[b] * dy[i];
          }
        }
        case MAX -> {
          for (int i = 0; i < n; i++) {
            dx[i] = argmax[i] == b ? dy[i] : 0f;
          }
        }
      }
    }
  }
}
