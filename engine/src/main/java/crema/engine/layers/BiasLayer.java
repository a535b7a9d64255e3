package crema.engine.layers;

import caffe.Caffe.BiasParameter;
import caffe.Caffe.FillerParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/** y = x + b, with b broadcast along axes from {@code axis}: learned, or a second bottom. */
@LayerType("Bias")
final class BiasLayer extends Layer {
  private final BiasParameter p;
  private Broadcast geometry;

  BiasLayer(LayerParameter param) {
    super(param);
    p = param().getBiasParam();
  }

  @Override
  protected int minBottoms() {
    return 1;
  }

  @Override
  protected int maxBottoms() {
    return 2;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (bottom.size() == 1) {
      Blob b = new Blob(Broadcast.paramShape(bottom.get(0), p.getAxis(), p.getNumAxes()));
      Filler.fill(p.hasFiller() ? p.getFiller() : FillerParameter.getDefaultInstance(), b, rng());
      blobs().add(b);
    }
  }

  private Blob operand(List<Blob> bottom) {
    return bottom.size() > 1 ? bottom.get(1) : blobs().get(0);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    geometry = Broadcast.of(bottom.get(0), p.getAxis(), operand(bottom));
    top.get(0).reshapeLike(bottom.get(0));
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    add(bottom.get(0).data(), operand(bottom).data(), top.get(0).data(), geometry);
  }

  static void add(float[] x, float[] b, float[] y, Broadcast g) {
    for (int o = 0; o < g.outer(); o++) {
      for (int d = 0; d < g.dim(); d++) {
        int base = (o * g.dim() + d) * g.inner();
        for (int i = 0; i < g.inner(); i++) {
          y[base + i] = x[base + i] + b[d];
        }
      }
    }
  }

  /** db += Σ over outer and inner of dy. */
  static void accumulate(float[] dy, float[] db, Broadcast g) {
    for (int o = 0; o < g.outer(); o++) {
      for (int d = 0; d < g.dim(); d++) {
        int base = (o * g.dim() + d) * g.inner();
        float s = 0;
        for (int i = 0; i < g.inner(); i++) {
          s += dy[base + i];
        }
        db[d] += s;
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    float[] dy = top.get(0).diff();
    if (propagateDown[0] && bottom.get(0) != top.get(0)) {
      System.arraycopy(dy, 0, bottom.get(0).diff(), 0, top.get(0).count());
    }
    boolean second = bottom.size() > 1;
    if (second ? propagateDown[1] : paramPropagateDown(0)) {
      Blob b = operand(bottom);
      if (second) {
        b.zeroDiff();
      }
      accumulate(dy, b.diff(), geometry);
    }
  }
}
