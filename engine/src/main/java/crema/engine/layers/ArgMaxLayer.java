package crema.engine.layers;

import caffe.Caffe.ArgMaxParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/**
 * The indices of the top_k largest values (per item, or along {@code axis}), optionally with the
 * values themselves (out_max_val). No gradient.
 */
@LayerType("ArgMax")
final class ArgMaxLayer extends Layer {
  private final ArgMaxParameter p;

  ArgMaxLayer(LayerParameter param) {
    super(param);
    p = param().getArgmaxParam();
    if (p.getTopK() < 1) {
      throw new IllegalArgumentException("top_k must be at least 1");
    }
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
    int k = p.getTopK();
    int[] shape;
    if (p.hasAxis()) {
      int axis = b.canonicalAxis(p.getAxis());
      if (k > b.shape(axis)) {
        throw new IllegalArgumentException("top_k must be <= the dimension of axis " + axis);
      }
      shape = b.shape();
      shape[axis] = k;
    } else {
      if (k > b.count(1)) {
        throw new IllegalArgumentException("top_k must be <= the number of classes " + b.count(1));
      }
      shape = new int[Math.max(3, b.numAxes())];
      Arrays.fill(shape, 1);
      shape[0] = b.shape(0);
      shape[2] = k;
      if (p.getOutMaxVal()) {
        shape[1] = 2;
      }
    }
    top.get(0).reshape(shape);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    float[] x = b.data();
    float[] y = top.get(0).data();
    int k = p.getTopK();
    int outer;
    int dim;
    int inner;
    if (p.hasAxis()) {
      int axis = b.canonicalAxis(p.getAxis());
      outer = b.count(0, axis);
      dim = b.shape(axis);
      inner = b.count(axis + 1);
    } else {
      outer = b.shape(0);
      dim = b.count(1);
      inner = 1;
    }
    Integer[] order = new Integer[dim];
    for (int o = 0; o < outer; o++) {
      for (int in = 0; in < inner; in++) {
        final int base = o * dim * inner + in;
        for (int d = 0; d < dim; d++) {
          order[d] = d;
        }
        Arrays.sort(order, (a, c) -> Float.compare(x[base + c * inner], x[base + a * inner]));
        for (int j = 0; j < k; j++) {
          if (p.hasAxis()) {
            int idx = o * k * inner + j * inner + in;
            y[idx] = p.getOutMaxVal() ? x[base + order[j] * inner] : order[j];
          } else if (p.getOutMaxVal()) {
            y[o * 2 * k + j] = order[j];
            y[o * 2 * k + k + j] = x[base + order[j] * inner];
          } else {
            y[o * k + j] = order[j];
          }
        }
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      throw new UnsupportedOperationException("ArgMax has no gradient");
    }
  }
}
