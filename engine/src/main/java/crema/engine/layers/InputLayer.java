package crema.engine.layers;

import caffe.Caffe.BlobShape;
import caffe.Caffe.InputParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** Tops the caller fills before forward (deploy nets): shaped by input_param.shape. */
@LayerType("Input")
final class InputLayer extends Layer {
  InputLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 0;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    InputParameter p = param().getInputParam();
    int n = p.getShapeCount();
    if (n != 0 && n != 1 && n != top.size()) {
      throw new IllegalArgumentException("Must specify 'shape' once, once per top blob, or not at all: "
          + top.size() + " tops vs. " + n + " shapes.");
    }
    if (n > 0) {
      for (int i = 0; i < top.size(); i++) {
        BlobShape s = p.getShape(n == 1 ? 0 : i);
        int[] dims = new int[s.getDimCount()];
        for (int d = 0; d < dims.length; d++) {
          dims[d] = Math.toIntExact(s.getDim(d));
        }
        top.get(i).reshape(dims);
      }
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}
}
