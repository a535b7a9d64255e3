package crema.engine.layers;

import caffe.Caffe.BlobShape;
import caffe.Caffe.DummyDataParameter;
import caffe.Caffe.FillerParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/**
 * Tops filled by fillers (constant 0 by default): one shape and filler for all tops or one per
 * top. Constant tops are filled once; random ones are refilled on every forward, as in Caffe.
 */
@LayerType("DummyData")
final class DummyDataLayer extends Layer {
  private final DummyDataParameter p;
  private FillerParameter[] fillers;
  private boolean[] refill;

  DummyDataLayer(LayerParameter param) {
    super(param);
    p = param().getDummyDataParam();
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
    int n = top.size();
    int legacy = p.getNumCount();
    int shapes = p.getShapeCount();
    int nf = p.getDataFillerCount();
    if (legacy > 0 && shapes > 0) {
      throw new IllegalArgumentException("Both shape and legacy fields were specified");
    }
    int given = Math.max(legacy, shapes);
    if (given != 1 && given != n) {
      throw new IllegalArgumentException("Specify one shape for all tops or one per top (" + n
          + " tops, " + given + " shapes)");
    }
    if (nf != 0 && nf != 1 && nf != n) {
      throw new IllegalArgumentException("Specify 0, 1 or one data_filler per top (" + n + " tops, "
          + nf + " fillers)");
    }
    fillers = new FillerParameter[n];
    refill = new boolean[n];
    for (int i = 0; i < n; i++) {
      fillers[i] = nf == 0 ? FillerParameter.getDefaultInstance() : p.getDataFiller(nf == 1 ? 0 : i);
      refill[i] = !"constant".equals(fillers[i].getType());
      int s = given == 1 ? 0 : i;
      if (legacy > 0) {
        top.get(i).reshape(p.getNum(s), p.getChannels(s), p.getHeight(s), p.getWidth(s));
      } else {
        BlobShape shape = p.getShape(s);
        int[] dims = new int[shape.getDimCount()];
        for (int d = 0; d < dims.length; d++) {
          dims[d] = Math.toIntExact(shape.getDim(d));
        }
        top.get(i).reshape(dims);
      }
      Filler.fill(fillers[i], top.get(i), rng());
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    for (int i = 0; i < top.size(); i++) {
      if (refill[i]) {
        Filler.fill(fillers[i], top.get(i), rng());
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}
}
