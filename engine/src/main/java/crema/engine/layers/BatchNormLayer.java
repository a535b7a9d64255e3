package crema.engine.layers;

import caffe.Caffe.BatchNormParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.ParamSpec;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/**
 * Batch normalisation without γ/β (pair it with Scale), as Caffe's: blobs() are the running mean,
 * the running variance and their scale factor, never learned (lr_mult 0). With use_global_stats
 * (the default in TEST) the running statistics are used; otherwise the batch's, and the running
 * ones are updated.
 */
@LayerType("BatchNorm")
final class BatchNormLayer extends Layer {
  private final BatchNormParameter p;
  private final boolean useGlobalStats;
  private float[] mean = new float[0];
  private float[] std = new float[0];
  private float[] xNorm = new float[0];
  private int channels;

  BatchNormLayer(LayerParameter param) {
    super(param);
    p = param().getBatchNormParam();
    useGlobalStats = p.hasUseGlobalStats() ? p.getUseGlobalStats() : param().getPhase() == Phase.TEST;
    for (ParamSpec spec : param().getParamList()) {
      if (spec.getLrMult() != 0) {
        throw new IllegalArgumentException(
            "Cannot configure batch normalization statistics as layer parameters (lr_mult must be 0)");
      }
    }
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
  public ParamSpec paramSpec(int i) {
    return ParamSpec.newBuilder().setLrMult(0).setDecayMult(0).build();
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    channels = bottom.get(0).numAxes() == 1 ? 1 : bottom.get(0).shape(1);
    blobs().add(new Blob(channels));
    blobs().add(new Blob(channels));
    blobs().add(new Blob(1));
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    top.get(0).reshapeLike(bottom.get(0));
    if (mean.length != channels) {
      mean = new float[channels];
      std = new float[channels];
    }
    if (xNorm.length < bottom.get(0).count()) {
      xNorm = new float[bottom.get(0).count()];
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int spatial = b.count() / (num * channels);
    float[] x = b.data();
    float[] y = top.get(0).data();
    int n = b.count();
    float m = (float) n / channels;
    if (useGlobalStats) {
      float factor = blobs().get(2).data()[0];
      float scale = factor == 0 ? 0 : 1 / factor;
      for (int c = 0; c < channels; c++) {
        mean[c] = blobs().get(0).data()[c] * scale;
        std[c] = blobs().get(1).data()[c] * scale;
      }
    } else {
      for (int c = 0; c < channels; c++) {
        double s = 0;
        for (int i = 0; i < num; i++) {
          for (int j = 0; j < spatial; j++) {
            s += x[(i * channels + c) * spatial + j];
          }
        }
        mean[c] = (float) (s / m);
        double v = 0;
        for (int i = 0; i < num; i++) {
          for (int j = 0; j < spatial; j++) {
            double d = x[(i * channels + c) * spatial + j] - mean[c];
            v += d * d;
          }
        }
        std[c] = (float) (v / m);
      }
      float maf = p.getMovingAverageFraction();
      float[] stats = blobs().get(2).data();
      stats[0] = stats[0] * maf + 1;
      float correction = m > 1 ? m / (m - 1) : 1;
      for (int c = 0; c < channels; c++) {
        blobs().get(0).data()[c] = mean[c] + maf * blobs().get(0).data()[c];
        blobs().get(1).data()[c] = correction * std[c] + maf * blobs().get(1).data()[c];
      }
    }
    for (int c = 0; c < channels; c++) {
      std[c] = (float) Math.sqrt(std[c] + p.getEps());
    }
    for (int i = 0; i < num; i++) {
      for (int c = 0; c < channels; c++) {
        for (int j = 0; j < spatial; j++) {
          int idx = (i * channels + c) * spatial + j;
          y[idx] = (x[idx] - mean[c]) / std[c];
          xNorm[idx] = y[idx];
        }
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int spatial = b.count() / (num * channels);
    float[] dy = top.get(0).diff();
    float[] dx = b.diff();
    float m = (float) b.count() / channels;
    for (int c = 0; c < channels; c++) {
      double meanDy = 0;
      double meanDyY = 0;
      if (!useGlobalStats) {
        for (int i = 0; i < num; i++) {
          for (int j = 0; j < spatial; j++) {
            int idx = (i * channels + c) * spatial + j;
            meanDy += dy[idx];
            meanDyY += dy[idx] * xNorm[idx];
          }
        }
        meanDy /= m;
        meanDyY /= m;
      }
      for (int i = 0; i < num; i++) {
        for (int j = 0; j < spatial; j++) {
          int idx = (i * channels + c) * spatial + j;
          dx[idx] = (float) ((dy[idx] - meanDy - meanDyY * xNorm[idx]) / std[c]);
        }
      }
    }
  }
}
