package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.PoolingParameter.PoolMethod;
import caffe.Caffe.PoolingParameter.RoundMode;
import caffe.Caffe.SPPParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.NetException;
import crema.engine.Rng;
import java.util.List;

/**
 * Caffe's spatial pyramid pooling of an N×C×H×W blob: level i (0 ≤ i < pyramid_height) pools
 * into 2^i × 2^i bins with, per axis, kernel = ceil(H / bins), pad = (kernel · bins − H + 1) / 2
 * and stride = kernel (spp_layer.cpp); each level is flattened to N × (C·bins²) and the levels are
 * concatenated along axis 1, level 0 first. With pyramid_height 1 the top is the single level's
 * N×C×1×1 output, unflattened, as Caffe's. The pooling is {@link Pool2d}'s; STOCHASTIC always
 * samples, because Caffe's inner pooling layers are built in its default TRAIN phase.
 */
@LayerType("SPP")
final class SPPLayer extends Layer {
  private final SPPParameter p;
  private final PoolMethod method;
  private Pool2d[] levels = new Pool2d[0];
  private float[][] pooled = new float[0][];
  private int[][] masks = new int[0][];
  private float[] levelDiff = new float[0];
  private float[][] levelTopDiffs = new float[0][];
  /** The bottom shape the levels were made for, and the top's shape. */
  private int[] shape;
  private int[] topShape;

  SPPLayer(LayerParameter param) {
    super(param);
    p = param.getSppParam();
    method = PoolMethod.forNumber(p.getPool().getNumber());
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
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (p.getPyramidHeight() < 1) {
      throw new NetException(this, "pyramid_height must be at least 1 (got " + p.getPyramidHeight() + ")");
    }
    if (p.getPyramidHeight() > 30) {
      throw new NetException(this, "pyramid_height " + p.getPyramidHeight() + " is too large");
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    if (b.numAxes() != 4) {
      throw new NetException(this, "Input must have 4 axes, corresponding to (num, channels,"
          + " height, width); got " + b.shapeString());
    }
    int num = b.shape(0);
    int channels = b.shape(1);
    int h = b.shape(2);
    int w = b.shape(3);
    if (h <= 0 || w <= 0) {
      throw new NetException(this, "Input dimensions cannot be zero (" + b.shapeString() + ")");
    }
    int height = p.getPyramidHeight();
    if (java.util.Arrays.equals(b.shape(), shape)) {
      top.get(0).reshape(topShape);
      return;
    }
    levels = new Pool2d[height];
    pooled = new float[height][];
    masks = new int[height][];
    levelTopDiffs = new float[height][];
    int flat = 0;
    for (int i = 0; i < height; i++) {
      int bins = 1 << i;
      int kernelH = (int) Math.ceil(h / (double) bins);
      int kernelW = (int) Math.ceil(w / (double) bins);
      int padH = (kernelH * bins - h + 1) / 2;
      int padW = (kernelW * bins - w + 1) / 2;
      levels[i] = Pool2d.of(this, method, kernelH, kernelW, padH, padW, kernelH, kernelW,
          RoundMode.CEIL, h, w);
      int size = num * channels * levels[i].pooledSize();
      pooled[i] = new float[size];
      masks[i] = new int[size];
      levelTopDiffs[i] = new float[size];
      flat += channels * levels[i].pooledSize();
    }
    topShape = height == 1 ? new int[] {num, channels, levels[0].pooledH(), levels[0].pooledW()}
        : new int[] {num, flat};
    top.get(0).reshape(topShape);
    shape = b.shape();
    if (levelDiff.length != b.count()) {
      levelDiff = new float[b.count()];
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int planes = num * b.shape(1);
    float[] in = b.data();
    Rng rng = method == PoolMethod.STOCHASTIC ? rng() : null;
    for (int i = 0; i < levels.length; i++) {
      switch (method) {
        case MAX -> levels[i].maxForward(in, pooled[i], masks[i], planes);
        case AVE -> levels[i].aveForward(in, pooled[i], planes);
        case STOCHASTIC -> levels[i].stochasticTrainForward(in, pooled[i], masks[i], planes, rng);
        default -> throw new NetException(this, "Unknown pooling method " + method);
      }
    }
    // Flatten each level and concatenate along axis 1.
    float[] out = top.get(0).data();
    int topDim = top.get(0).count() / num;
    int offset = 0;
    for (float[] level : pooled) {
      int dim = level.length / num;
      for (int n = 0; n < num; n++) {
        System.arraycopy(level, n * dim, out, n * topDim + offset, dim);
      }
      offset += dim;
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    Blob b = bottom.get(0);
    int num = b.shape(0);
    int planes = num * b.shape(1);
    float[] topDiff = top.get(0).diff();
    float[] dx = b.diff();
    int topDim = top.get(0).count() / num;
    int offset = 0;
    for (int i = 0; i < levels.length; i++) {
      // The level's slice of the top gradient (Concat, then Flatten backward) ...
      float[] levelTopDiff = levelTopDiffs[i];
      int dim = levelTopDiff.length / num;
      for (int n = 0; n < num; n++) {
        System.arraycopy(topDiff, n * topDim + offset, levelTopDiff, n * dim, dim);
      }
      offset += dim;
      // ... through the level's pooling, summed over the levels as Caffe's Split does.
      float[] target = i == 0 ? dx : levelDiff;
      if (method == PoolMethod.AVE) {
        levels[i].aveBackward(levelTopDiff, target, planes);
      } else {
        levels[i].scatterBackward(levelTopDiff, masks[i], target, planes);
      }
      if (i > 0) {
        for (int j = 0, n = b.count(); j < n; j++) {
          dx[j] += levelDiff[j];
        }
      }
    }
  }
}
