package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.ArrayList;
import java.util.List;

/** Merges axes [axis, end_axis] into one. */
@LayerType("Flatten")
final class FlattenLayer extends CopyLayer {
  FlattenLayer(LayerParameter param) {
    super(param);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    if (b == top.get(0)) {
      throw new IllegalArgumentException("Flatten layer does not allow in-place computation.");
    }
    int start = b.canonicalAxis(param().getFlattenParam().getAxis());
    int end = b.canonicalAxis(param().getFlattenParam().getEndAxis());
    List<Integer> shape = new ArrayList<>();
    for (int i = 0; i < start; i++) {
      shape.add(b.shape(i));
    }
    shape.add(b.count(start, end + 1));
    for (int i = end + 1; i < b.numAxes(); i++) {
      shape.add(b.shape(i));
    }
    top.get(0).reshape(shape.stream().mapToInt(Integer::intValue).toArray());
  }
}
