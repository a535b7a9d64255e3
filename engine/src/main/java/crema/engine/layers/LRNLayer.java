package crema.engine.layers;

import caffe.Caffe.LRNParameter;
import caffe.Caffe.LRNParameter.NormRegion;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.PoolingParameter.PoolMethod;
import caffe.Caffe.PoolingParameter.RoundMode;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.NetException;
import java.util.Arrays;
import java.util.List;

/**
 * Caffe's local response normalisation of an N×C×H×W blob, {@code local_size} odd.
 *
 * <ul>
 *   <li>ACROSS_CHANNELS: y = x · s^−β with s = k + α/n · Σ x² over the n channels centred on x's
 *       (zero beyond the edges). The scale is computed as Caffe's lrn_layer.cpp does, sliding along
 *       the channels (add the head, subtract the tail), and so is the gradient.
 *   <li>WITHIN_CHANNEL: y = x · (1 + α · S / n²)^−β with S the sum of x² over the n×n window
 *       centred on x, zero-padded. Caffe builds it from a Split, a Power (x²), an AVE Pooling with
 *       pad (n−1)/2 (which divides by n² everywhere: the padded window), a Power (scale α, shift 1,
 *       power −β) and an Eltwise PROD; this layer runs the same operations in the same order, the
 *       pooling through {@link Pool2d}. k is not used.
 * </ul>
 */
@LayerType("LRN")
final class LRNLayer extends Layer {
  private final NormRegion region;
  private final int size;
  private final int prePad;
  private final float alpha;
  private final float beta;
  private final float k;
  private int num;
  private int channels;
  private int height;
  private int width;
  /** ACROSS_CHANNELS: the scale s of every element. */
  private float[] scale = new float[0];
  // WITHIN_CHANNEL: x², its pooled window averages, and the power layer's output.
  private Pool2d pool;
  private float[] squares = new float[0];
  private float[] pooled = new float[0];
  private float[] power = new float[0];
  /** Scratch: the padded squares or ratios (ACROSS), the pooled and squares' gradients (WITHIN). */
  private float[] work = new float[0];
  private float[] work2 = new float[0];

  LRNLayer(LayerParameter param) {
    super(param);
    LRNParameter p = param.getLrnParam();
    region = p.getNormRegion();
    size = p.getLocalSize();
    prePad = (size - 1) / 2;
    alpha = p.getAlpha();
    beta = p.getBeta();
    k = p.getK();
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
    if (size % 2 != 1) {
      throw new NetException(this, "LRN only supports odd values for local_size (got " + size + ")");
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    if (b.numAxes() != 4) {
      throw new NetException(this, "Input must have 4 axes, corresponding to (num, channels,"
          + " height, width); got " + b.shapeString());
    }
    num = b.shape(0);
    channels = b.shape(1);
    height = b.shape(2);
    width = b.shape(3);
    top.get(0).reshape(num, channels, height, width);
    int count = b.count();
    if (region == NormRegion.ACROSS_CHANNELS) {
      if (scale.length != count) {
        scale = new float[count];
      }
      int padded = (channels + size - 1) * height * width;
      if (work.length != padded || work2.length != height * width) {
        work = new float[padded];
        work2 = new float[height * width];
      }
    } else {
      pool = Pool2d.of(this, PoolMethod.AVE, size, size, prePad, prePad, 1, 1, RoundMode.CEIL,
          height, width);
      if (pool.pooledH() != height || pool.pooledW() != width) {
        throw new IllegalStateException("WITHIN_CHANNEL pooling changed the size");
      }
      if (squares.length != count) {
        squares = new float[count];
        pooled = new float[count];
        power = new float[count];
        work = new float[count];
        work2 = new float[count];
      }
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    if (region == NormRegion.ACROSS_CHANNELS) {
      acrossForward(bottom.get(0).data(), top.get(0).data());
    } else {
      withinForward(bottom.get(0).data(), top.get(0).data());
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    if (region == NormRegion.ACROSS_CHANNELS) {
      acrossBackward(top.get(0), bottom.get(0));
    } else {
      withinBackward(top.get(0).diff(), bottom.get(0).data(), bottom.get(0).diff());
    }
  }

  private void acrossForward(float[] x, float[] y) {
    int plane = height * width;
    int chw = channels * plane;
    Arrays.fill(scale, 0, num * chw, k);
    float[] paddedSquare = work;
    Arrays.fill(paddedSquare, 0f);
    float alphaOverSize = alpha / size;
    for (int n = 0; n < num; n++) {
      int base = n * chw;
      for (int i = 0; i < chw; i++) {
        float v = x[base + i];
        paddedSquare[prePad * plane + i] = v * v;
      }
      // The first channel's scale, then each next one from the previous: add head, subtract tail.
      for (int c = 0; c < size; c++) {
        for (int i = 0; i < plane; i++) {
          scale[base + i] += alphaOverSize * paddedSquare[c * plane + i];
        }
      }
      for (int c = 1; c < channels; c++) {
        int cur = base + c * plane;
        int prev = cur - plane;
        int head = (c + size - 1) * plane;
        int tail = (c - 1) * plane;
        for (int i = 0; i < plane; i++) {
          float s = scale[prev + i];
          s += alphaOverSize * paddedSquare[head + i];
          s += -alphaOverSize * paddedSquare[tail + i];
          scale[cur + i] = s;
        }
      }
    }
    for (int i = 0, count = num * chw; i < count; i++) {
      y[i] = (float) Math.pow(scale[i], -beta) * x[i];
    }
  }

  private void acrossBackward(Blob top, Blob bottom) {
    float[] topDiff = top.diff();
    float[] topData = top.data();
    float[] x = bottom.data();
    float[] dx = bottom.diff();
    int plane = height * width;
    int chw = channels * plane;
    float[] paddedRatio = work;
    Arrays.fill(paddedRatio, 0f);
    float[] accum = work2;
    float cacheRatio = (float) (2.0 * alpha * beta / size);
    for (int i = 0, count = num * chw; i < count; i++) {
      dx[i] = topDiff[i] * (float) Math.pow(scale[i], -beta);
    }
    int inversePrePad = size - (size + 1) / 2;
    for (int n = 0; n < num; n++) {
      int base = n * chw;
      for (int i = 0; i < chw; i++) {
        float r = topDiff[base + i] * topData[base + i];
        paddedRatio[inversePrePad * plane + i] = r / scale[base + i];
      }
      Arrays.fill(accum, 0f);
      for (int c = 0; c < size - 1; c++) {
        for (int i = 0; i < plane; i++) {
          accum[i] += paddedRatio[c * plane + i];
        }
      }
      for (int c = 0; c < channels; c++) {
        int head = (c + size - 1) * plane;
        int tail = c * plane;
        int at = base + c * plane;
        for (int i = 0; i < plane; i++) {
          accum[i] += paddedRatio[head + i];
          float accumTimesBottom = x[at + i] * accum[i];
          dx[at + i] += -cacheRatio * accumTimesBottom;
          accum[i] += -1f * paddedRatio[tail + i];
        }
      }
    }
  }

  private void withinForward(float[] x, float[] y) {
    int count = num * channels * height * width;
    for (int i = 0; i < count; i++) {
      squares[i] = x[i] * x[i];
    }
    pool.aveForward(squares, pooled, num * channels);
    for (int i = 0; i < count; i++) {
      power[i] = powerForward(pooled[i]);
      y[i] = x[i] * power[i];
    }
  }

  /** Caffe's Power layer with power −β, scale α, shift 1: copy, scale, add the shift, raise. */
  private float powerForward(float v) {
    if (alpha == 0f) {
      return (float) Math.pow(1f, -beta);
    }
    float t = v;
    if (alpha != 1f) {
      t *= alpha;
    }
    t += 1f;
    return -beta != 1f ? (float) Math.pow(t, -beta) : t;
  }

  private void withinBackward(float[] topDiff, float[] x, float[] dx) {
    int count = num * channels * height * width;
    float diffScale = -beta * alpha;
    // Eltwise PROD: the gradient of the power output; the product input's is power · dy.
    float[] dPooled = work;
    for (int i = 0; i < count; i++) {
      float dPower = x[i] * topDiff[i];
      // Power backward: dy/dv = diff_scale · y / (shift + scale · v).
      float d;
      if (diffScale == 0f || -beta == 1f) {
        d = diffScale;
      } else if (-beta == 2f) {
        d = diffScale * alpha * pooled[i] + diffScale;
      } else {
        float t = pooled[i];
        if (alpha != 1f) {
          t *= alpha;
        }
        t += 1f;
        d = power[i] / t;
        if (diffScale != 1f) {
          d *= diffScale;
        }
      }
      dPooled[i] = diffScale != 0f ? dPower * d : d;
    }
    float[] dSquares = work2;
    pool.aveBackward(dPooled, dSquares, num * channels);
    for (int i = 0; i < count; i++) {
      // Power (x²) backward: 2·x · d; then Split sums the product input's and the square input's.
      float dSquareInput = (2f * x[i]) * dSquares[i];
      float dProductInput = power[i] * topDiff[i];
      dx[i] = dProductInput + dSquareInput;
    }
  }
}
