package crema.engine.layers;

import caffe.Caffe.CropParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.NetException;
import java.util.Arrays;
import java.util.List;

/**
 * Caffe's Crop: bottom 0 cropped to the shape of bottom 1 on every axis from {@code axis}
 * (default 2) on, starting at {@code offset} (one value for all cropped axes, one per cropped
 * axis, or none: 0). Backward writes the top gradient into the cropped region of bottom 0's
 * gradient and zero elsewhere; bottom 1 only gives the shape and its gradient is left untouched
 * (as Caffe's, which still lets force_backward ask for it).
 */
@LayerType("Crop")
final class CropLayer extends Layer {
  private int[] offsets = new int[0];

  CropLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 2;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  private int startAxis(Blob data) {
    CropParameter p = param().getCropParam();
    int dims = data.numAxes();
    if (p.getAxis() < -dims || p.getAxis() >= dims) {
      throw new NetException(this, "crop axis " + p.getAxis() + " is out of range for an input of "
          + dims + " axes (" + data.shapeString() + ")");
    }
    return data.canonicalAxis(p.getAxis());
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    CropParameter p = param().getCropParam();
    int dims = bottom.get(0).numAxes();
    int start = startAxis(bottom.get(0));
    if (p.getOffsetCount() > 1 && start + p.getOffsetCount() != dims) {
      throw new NetException(this, "number of offset values specified must be equal to the number"
          + " of dimensions following axis (" + p.getOffsetCount() + " offsets, axis " + start
          + ", input " + bottom.get(0).shapeString() + ")");
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    CropParameter p = param().getCropParam();
    Blob data = bottom.get(0);
    Blob ref = bottom.get(1);
    int dims = data.numAxes();
    int start = startAxis(data);
    if (ref.numAxes() < dims) {
      throw new NetException(this, "the reference " + ref.shapeString() + " has fewer axes than"
          + " the input " + data.shapeString());
    }
    int[] shape = data.shape();
    offsets = new int[dims];
    for (int i = start; i < dims; i++) {
      int offset = p.getOffsetCount() == 0 ? 0
          : p.getOffsetCount() == 1 ? p.getOffset(0) : p.getOffset(i - start);
      if (offset < 0 || data.shape(i) - offset < ref.shape(i)) {
        throw new NetException(this, "the crop for dimension " + i + " is out-of-bounds with size "
            + ref.shape(i) + " and offset " + Integer.toUnsignedString(offset) + " (input "
            + data.shapeString() + ", reference " + ref.shapeString() + ")");
      }
      shape[i] = ref.shape(i);
      offsets[i] = offset;
    }
    top.get(0).reshape(shape);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    copy(bottom.get(0), top.get(0), bottom.get(0).data(), top.get(0).data(), true);
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] dx = bottom.get(0).diff();
    Arrays.fill(dx, 0, bottom.get(0).count(), 0f);
    copy(bottom.get(0), top.get(0), top.get(0).diff(), dx, false);
  }

  /** Copies each innermost row between the top and its place in the bottom. */
  private void copy(Blob bottom, Blob top, float[] src, float[] dst, boolean forward) {
    int dims = top.numAxes();
    int row = top.shape(dims - 1);
    int rows = top.count() / Math.max(row, 1);
    if (row == 0) {
      return;
    }
    int[] bottomStride = new int[dims];
    for (int d = 0; d < dims; d++) {
      bottomStride[d] = bottom.count(d + 1);
    }
    for (int r = 0; r < rows; r++) {
      int rest = r;
      int bottomAt = offsets[dims - 1];
      for (int d = dims - 2; d >= 0; d--) {
        int index = rest % top.shape(d);
        rest /= top.shape(d);
        bottomAt += (index + offsets[d]) * bottomStride[d];
      }
      if (forward) {
        System.arraycopy(src, bottomAt, dst, r * row, row);
      } else {
        System.arraycopy(src, r * row, dst, bottomAt, row);
      }
    }
  }
}
