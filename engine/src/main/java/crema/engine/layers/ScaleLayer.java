package crema.engine.layers;

import caffe.Caffe.FillerParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.ScaleParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/**
 * y = γ·x (+ β), with γ broadcast along axes from {@code axis}: learned (filler default 1), or a
 * second bottom. With {@code bias_term} a learned β follows (Caffe's γ/β after BatchNorm).
 */
@LayerType("Scale")
final class ScaleLayer extends Layer {
  private final ScaleParameter p;
  private Broadcast geometry;
  private Broadcast biasGeometry;
  private float[] inputCopy = new float[0];

  ScaleLayer(LayerParameter param) {
    super(param);
    p = param().getScaleParam();
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
      Blob g = new Blob(Broadcast.paramShape(bottom.get(0), p.getAxis(), p.getNumAxes()));
      FillerParameter f = p.hasFiller() ? p.getFiller()
          : FillerParameter.newBuilder().setType("constant").setValue(1f).build();
      Filler.fill(f, g, rng());
      blobs().add(g);
    }
    if (p.getBiasTerm()) {
      Blob scale = bottom.size() > 1 ? bottom.get(1) : blobs().get(0);
      Blob b = new Blob(scale.shape());
      Filler.fill(p.hasBiasFiller() ? p.getBiasFiller() : FillerParameter.getDefaultInstance(), b, rng());
      blobs().add(b);
    }
  }

  private Blob scale(List<Blob> bottom) {
    return bottom.size() > 1 ? bottom.get(1) : blobs().get(0);
  }

  private Blob bias(List<Blob> bottom) {
    return blobs().get(bottom.size() > 1 ? 0 : 1);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    geometry = Broadcast.of(bottom.get(0), p.getAxis(), scale(bottom));
    if (p.getBiasTerm()) {
      biasGeometry = Broadcast.of(bottom.get(0), p.getAxis(), bias(bottom));
    }
    top.get(0).reshapeLike(bottom.get(0));
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob xb = bottom.get(0);
    float[] x = xb.data();
    if (xb == top.get(0)) {
      if (inputCopy.length < xb.count()) {
        inputCopy = new float[xb.count()];
      }
      System.arraycopy(x, 0, inputCopy, 0, xb.count());
    }
    float[] s = scale(bottom).data();
    float[] y = top.get(0).data();
    Broadcast g = geometry;
    for (int o = 0; o < g.outer(); o++) {
      for (int d = 0; d < g.dim(); d++) {
        int base = (o * g.dim() + d) * g.inner();
        for (int i = 0; i < g.inner(); i++) {
          y[base + i] = x[base + i] * s[d];
        }
      }
    }
    if (p.getBiasTerm()) {
      BiasLayer.add(y, bias(bottom).data(), y, biasGeometry);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    Blob xb = bottom.get(0);
    float[] x = xb == top.get(0) ? inputCopy : xb.data();
    float[] dy = top.get(0).diff();
    Broadcast g = geometry;
    boolean second = bottom.size() > 1;
    if (p.getBiasTerm() && paramPropagateDown(second ? 0 : 1)) {
      BiasLayer.accumulate(dy, bias(bottom).diff(), biasGeometry);
    }
    if (second ? propagateDown[1] : paramPropagateDown(0)) {
      Blob sb = scale(bottom);
      if (second) {
        sb.zeroDiff();
      }
      float[] ds = sb.diff();
      for (int o = 0; o < g.outer(); o++) {
        for (int d = 0; d < g.dim(); d++) {
          int base = (o * g.dim() + d) * g.inner();
          float acc = 0;
          for (int i = 0; i < g.inner(); i++) {
            acc += dy[base + i] * x[base + i];
          }
          ds[d] += acc;
        }
      }
    }
    if (propagateDown[0]) {
      float[] s = scale(bottom).data();
      float[] dx = xb.diff();
      for (int o = 0; o < g.outer(); o++) {
        for (int d = 0; d < g.dim(); d++) {
          int base = (o * g.dim() + d) * g.inner();
          for (int i = 0; i < g.inner(); i++) {
            dx[base + i] = dy[base + i] * s[d];
          }
        }
      }
    }
  }
}
