package crema.engine.layers;

import caffe.Caffe.PoolingParameter;
import caffe.Caffe.PoolingParameter.PoolMethod;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.NetException;
import java.util.List;

/**
 * Caffe's Pooling over the H×W planes of an N×C×H×W blob: MAX (with an optional second top, the
 * mask: each output's argmax index h·W + w in its plane, as a float), AVE (dividing by the window
 * clipped to the padded image, as Caffe does) and STOCHASTIC (TRAIN: an input drawn from the
 * layer's generator with probability proportional to its activation; TEST: Σx²/Σx). Kernel, pad
 * and stride are square or per axis; {@code global_pooling} pools the whole plane. The output size
 * rounds up (or down, with {@code round_mode: FLOOR}), and a padded last window that would start
 * in the padding is dropped. The arithmetic is {@link Pool2d}'s.
 */
@LayerType("Pooling")
final class PoolingLayer extends Layer {
  private final PoolMethod method;
  private int kernelH;
  private int kernelW;
  private int padH;
  private int padW;
  private int strideH;
  private int strideW;
  private boolean global;
  private Pool2d pool;
  /** MAX: each output's argmax; STOCHASTIC (TRAIN): each output's sampled input. */
  private int[] mask = new int[0];

  PoolingLayer(LayerParameter param) {
    super(param);
    method = param.getPoolingParam().getPool();
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected int maxTops() {
    return method == PoolMethod.MAX ? 2 : 1;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    PoolingParameter p = param().getPoolingParam();
    global = p.getGlobalPooling();
    if (global) {
      if (p.hasKernelSize() || p.hasKernelH() || p.hasKernelW()) {
        throw new NetException(this, "With global_pooling: true, the filter size cannot be specified");
      }
    } else {
      if (p.hasKernelSize() && (p.hasKernelH() || p.hasKernelW())) {
        throw new NetException(this, "Filter size is kernel_size OR kernel_h and kernel_w; not both");
      }
      if (!p.hasKernelSize() && (p.hasKernelH() || p.hasKernelW()) && !(p.hasKernelH() && p.hasKernelW())) {
        throw new NetException(this, "For non-square filters both kernel_h and kernel_w are required");
      }
      if (!p.hasKernelSize() && !p.hasKernelH()) {
        throw new NetException(this, "the filter size is required: kernel_size, or kernel_h and"
            + " kernel_w (or global_pooling: true)");
      }
    }
    if (!((!p.hasPad() && p.hasPadH() && p.hasPadW()) || (!p.hasPadH() && !p.hasPadW()))) {
      throw new NetException(this, "pad is pad OR pad_h and pad_w are required");
    }
    if (!((!p.hasStride() && p.hasStrideH() && p.hasStrideW()) || (!p.hasStrideH() && !p.hasStrideW()))) {
      throw new NetException(this, "Stride is stride OR stride_h and stride_w are required");
    }
    if (!global) {
      kernelH = p.hasKernelSize() ? p.getKernelSize() : p.getKernelH();
      kernelW = p.hasKernelSize() ? p.getKernelSize() : p.getKernelW();
      if (kernelH <= 0 || kernelW <= 0) {
        throw new NetException(this, "Filter dimensions cannot be zero");
      }
    }
    padH = p.hasPadH() ? p.getPadH() : p.getPad();
    padW = p.hasPadH() ? p.getPadW() : p.getPad();
    strideH = p.hasStrideH() ? p.getStrideH() : p.getStride();
    strideW = p.hasStrideH() ? p.getStrideW() : p.getStride();
    if (global && (padH != 0 || padW != 0 || strideH != 1 || strideW != 1)) {
      throw new NetException(this, "With global_pooling: true, only pad = 0 and stride = 1 (pad "
          + padH + "x" + padW + ", stride " + strideH + "x" + strideW + ")");
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    if (b.numAxes() != 4) {
      throw new NetException(this, "Input must have 4 axes, corresponding to (num, channels,"
          + " height, width); got " + b.shapeString());
    }
    int h = b.shape(2);
    int w = b.shape(3);
    pool = Pool2d.of(this, method, global ? h : kernelH, global ? w : kernelW, padH, padW,
        strideH, strideW, param().getPoolingParam().getRoundMode(), h, w);
    top.get(0).reshape(b.shape(0), b.shape(1), pool.pooledH(), pool.pooledW());
    if (top.size() > 1) {
      top.get(1).reshapeLike(top.get(0));
    }
    if (mask.length != top.get(0).count()) {
      mask = new int[top.get(0).count()];
    }
  }

  private int planes(Blob b) {
    return b.shape(0) * b.shape(1);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    int planes = planes(bottom.get(0));
    switch (method) {
      case MAX -> {
        pool.maxForward(in, out, mask, planes);
        if (top.size() > 1) {
          float[] topMask = top.get(1).data();
          for (int i = 0; i < mask.length; i++) {
            topMask[i] = mask[i];
          }
        }
      }
      case AVE -> pool.aveForward(in, out, planes);
      case STOCHASTIC -> {
        if (phase() == Phase.TRAIN) {
          pool.stochasticTrainForward(in, out, mask, planes, rng());
        } else {
          pool.stochasticTestForward(in, out, planes);
        }
      }
      default -> throw new NetException(this, "Unknown pooling method " + method);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] topDiff = top.get(0).diff();
    float[] bottomDiff = bottom.get(0).diff();
    int planes = planes(bottom.get(0));
    switch (method) {
      case MAX -> {
        if (top.size() > 1) {
          // As Caffe, with a mask top the gradient follows the mask top's values.
          float[] topMask = top.get(1).data();
          for (int i = 0; i < mask.length; i++) {
            mask[i] = (int) topMask[i];
          }
        }
        pool.scatterBackward(topDiff, mask, bottomDiff, planes);
      }
      case AVE -> pool.aveBackward(topDiff, bottomDiff, planes);
      case STOCHASTIC -> {
        if (phase() == Phase.TRAIN) {
          pool.scatterBackward(topDiff, mask, bottomDiff, planes);
        } else {
          pool.stochasticTestBackward(bottom.get(0).data(), topDiff, bottomDiff, planes);
        }
      }
      default -> throw new NetException(this, "Unknown pooling method " + method);
    }
  }
}
