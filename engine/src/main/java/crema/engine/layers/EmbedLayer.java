package crema.engine.layers;

import caffe.Caffe.EmbedParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/** A lookup table: each integer index in [0, input_dim) selects a row of W (input_dim × N), plus bias. */
@LayerType("Embed")
final class EmbedLayer extends Layer {
  private final EmbedParameter p;
  private int m;

  EmbedLayer(LayerParameter param) {
    super(param);
    p = param().getEmbedParam();
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
  public boolean allowForceBackward(int bottomIndex) {
    return false;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (p.getNumOutput() == 0 || p.getInputDim() == 0) {
      throw new IllegalArgumentException("embed_param needs num_output and input_dim > 0");
    }
    Blob w = new Blob(p.getInputDim(), p.getNumOutput());
    Filler.fill(p.getWeightFiller(), w, rng());
    blobs().add(w);
    if (p.getBiasTerm()) {
      Blob b = new Blob(p.getNumOutput());
      Filler.fill(p.getBiasFiller(), b, rng());
      blobs().add(b);
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    m = bottom.get(0).count();
    int[] s = bottom.get(0).shape();
    int[] t = Arrays.copyOf(s, s.length + 1);
    t[s.length] = p.getNumOutput();
    top.get(0).reshape(t);
  }

  private int index(float v) {
    int i = (int) v;
    if (i != v || i < 0 || i >= p.getInputDim()) {
      throw new IllegalArgumentException("embed input " + v + " is not an integer in [0, "
          + p.getInputDim() + ")");
    }
    return i;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    int n = p.getNumOutput();
    float[] x = bottom.get(0).data();
    float[] w = blobs().get(0).data();
    float[] y = top.get(0).data();
    for (int i = 0; i < m; i++) {
      System.arraycopy(w, index(x[i]) * n, y, i * n, n);
      if (p.getBiasTerm()) {
        float[] b = blobs().get(1).data();
        for (int j = 0; j < n; j++) {
          y[i * n + j] += b[j];
        }
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (propagateDown[0]) {
      throw new IllegalArgumentException("Can't backpropagate to EmbedLayer input.");
    }
    int n = p.getNumOutput();
    float[] x = bottom.get(0).data();
    float[] dy = top.get(0).diff();
    if (paramPropagateDown(0)) {
      float[] dw = blobs().get(0).diff();
      for (int i = 0; i < m; i++) {
        int row = index(x[i]);
        for (int j = 0; j < n; j++) {
          dw[row * n + j] += dy[i * n + j];
        }
      }
    }
    if (p.getBiasTerm() && paramPropagateDown(1)) {
      float[] db = blobs().get(1).diff();
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          db[j] += dy[i * n + j];
        }
      }
    }
  }
}
