package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.SliceParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/** Cuts the bottom along {@code axis} at slice_point (or into equal parts, one per top). */
@LayerType("Slice")
final class SliceLayer extends Layer {
  private int axis;
  private int[] sizes;

  SliceLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    SliceParameter p = param().getSliceParam();
    Blob b = bottom.get(0);
    axis = p.hasSliceDim() && !p.hasAxis() ? p.getSliceDim() : b.canonicalAxis(p.getAxis());
    int total = b.shape(axis);
    sizes = new int[top.size()];
    if (p.getSlicePointCount() > 0) {
      if (p.getSlicePointCount() != top.size() - 1) {
        throw new IllegalArgumentException("slice_point needs one entry fewer than the tops ("
            + top.size() + " tops, " + p.getSlicePointCount() + " slice points)");
      }
      int prev = 0;
      for (int i = 0; i < p.getSlicePointCount(); i++) {
        int sp = p.getSlicePoint(i);
        if (sp <= prev && i > 0 || sp > total) {
          throw new IllegalArgumentException("slice points must increase and lie within " + total);
        }
        sizes[i] = sp - prev;
        prev = sp;
      }
      sizes[top.size() - 1] = total - prev;
    } else {
      if (total % top.size() != 0) {
        throw new IllegalArgumentException("Number of top blobs (" + top.size() + ") should evenly"
            + " divide input slice dimension (" + total + ")");
      }
      Arrays.fill(sizes, total / top.size());
    }
    int[] shape = b.shape();
    for (int i = 0; i < top.size(); i++) {
      shape[axis] = sizes[i];
      top.get(i).reshape(shape);
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    copy(bottom.get(0), top, true);
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      copy(bottom.get(0), top, false);
    }
  }

  private void copy(Blob b, List<Blob> top, boolean forward) {
    int outer = b.count(0, axis);
    int inner = b.count(axis + 1);
    int bottomAxis = b.shape(axis);
    int offset = 0;
    for (int i = 0; i < top.size(); i++) {
      Blob t = top.get(i);
      for (int o = 0; o < outer; o++) {
        int bo = (o * bottomAxis + offset) * inner;
        int to = o * sizes[i] * inner;
        if (forward) {
          System.arraycopy(b.data(), bo, t.data(), to, sizes[i] * inner);
        } else {
          System.arraycopy(t.diff(), to, b.diff(), bo, sizes[i] * inner);
        }
      }
      offset += sizes[i];
    }
  }
}
