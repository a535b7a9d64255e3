package crema.engine.layers;

import caffe.Caffe.ConcatParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** Joins the bottoms along {@code axis}; all other dimensions must agree. */
@LayerType("Concat")
final class ConcatLayer extends Layer {
  private int axis;

  ConcatLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int minBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    ConcatParameter p = param().getConcatParam();
    Blob first = bottom.get(0);
    axis = p.hasConcatDim() && !p.hasAxis() ? p.getConcatDim() : first.canonicalAxis(p.getAxis());
    int[] shape = first.shape();
    for (int i = 1; i < bottom.size(); i++) {
      Blob b = bottom.get(i);
      if (b.numAxes() != first.numAxes()) {
        throw new IllegalArgumentException("All inputs must have the same number of axes ("
            + first.shapeString() + " vs " + b.shapeString() + ")");
      }
      for (int a = 0; a < shape.length; a++) {
        if (a != axis && b.shape(a) != shape[a]) {
          throw new IllegalArgumentException("All inputs must have the same shape, except at the"
              + " concat axis " + axis + " (" + first.shapeString() + " vs " + b.shapeString() + ")");
        }
      }
      shape[axis] += b.shape(axis);
    }
    top.get(0).reshape(shape);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob t = top.get(0);
    int outer = t.count(0, axis);
    int inner = t.count(axis + 1);
    int topAxis = t.shape(axis);
    int offset = 0;
    for (Blob b : bottom) {
      int ba = b.shape(axis);
      for (int o = 0; o < outer; o++) {
        System.arraycopy(b.data(), o * ba * inner, t.data(), (o * topAxis + offset) * inner, ba * inner);
      }
      offset += ba;
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    Blob t = top.get(0);
    int outer = t.count(0, axis);
    int inner = t.count(axis + 1);
    int topAxis = t.shape(axis);
    int offset = 0;
    for (int i = 0; i < bottom.size(); i++) {
      Blob b = bottom.get(i);
      int ba = b.shape(axis);
      if (propagateDown[i]) {
        for (int o = 0; o < outer; o++) {
          System.arraycopy(t.diff(), (o * topAxis + offset) * inner, b.diff(), o * ba * inner, ba * inner);
        }
      }
      offset += ba;
    }
  }
}
