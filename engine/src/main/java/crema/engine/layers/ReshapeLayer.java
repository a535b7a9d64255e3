package crema.engine.layers;

import caffe.Caffe.BlobShape;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.ReshapeParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.ArrayList;
import java.util.List;

/**
 * Gives the bottom's values a new shape: in reshape_param.shape, 0 copies the bottom's dimension
 * and one −1 is inferred; axis/num_axes limit the reshape to a range of the bottom's axes.
 */
@LayerType("Reshape")
final class ReshapeLayer extends CopyLayer {
  ReshapeLayer(LayerParameter param) {
    super(param);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    ReshapeParameter p = param().getReshapeParam();
    BlobShape spec = p.getShape();
    int inputStart = p.getAxis() >= 0 ? p.getAxis() : b.numAxes() + p.getAxis() + 1;
    if (inputStart < 0 || inputStart > b.numAxes()) {
      throw new IllegalArgumentException("axis " + p.getAxis() + " out of range for " + b.shapeString());
    }
    int numAxes = p.getNumAxes();
    if (numAxes < -1) {
      throw new IllegalArgumentException("num_axes must be >= 0, or -1 for all");
    }
    int inputEnd = numAxes == -1 ? b.numAxes() : inputStart + numAxes;
    if (inputEnd > b.numAxes()) {
      throw new IllegalArgumentException("end axis " + inputEnd + " out of range for " + b.shapeString());
    }
    List<Integer> shape = new ArrayList<>();
    for (int i = 0; i < inputStart; i++) {
      shape.add(b.shape(i));
    }
    int inferred = -1;
    for (int i = 0; i < spec.getDimCount(); i++) {
      int d = (int) spec.getDim(i);
      if (d == 0) {
        if (inputStart + i >= b.numAxes()) {
          throw new IllegalArgumentException("new shape contains a 0 past the bottom's axes");
        }
        d = b.shape(inputStart + i);
      } else if (d == -1) {
        if (inferred >= 0) {
          throw new IllegalArgumentException("new shape contains multiple -1 dims");
        }
        inferred = shape.size();
      } else if (d < -1) {
        throw new IllegalArgumentException("invalid dimension " + d + " in reshape_param.shape");
      }
      shape.add(d);
    }
    for (int i = inputEnd; i < b.numAxes(); i++) {
      shape.add(b.shape(i));
    }
    if (inferred >= 0) {
      long known = 1;
      for (int i = 0; i < shape.size(); i++) {
        if (i != inferred) {
          known *= shape.get(i);
        }
      }
      if (known == 0 || b.count() % known != 0) {
        throw new IllegalArgumentException("cannot infer -1 in reshape of " + b.shapeString()
            + " to " + shape);
      }
      shape.set(inferred, (int) (b.count() / known));
    }
    int[] s = shape.stream().mapToInt(Integer::intValue).toArray();
    long count = 1;
    for (int d : s) {
      count *= d;
    }
    if (count != b.count()) {
      throw new IllegalArgumentException("output count must match input count: " + b.shapeString()
          + " cannot become " + shape);
    }
    top.get(0).reshape(s);
  }
}
