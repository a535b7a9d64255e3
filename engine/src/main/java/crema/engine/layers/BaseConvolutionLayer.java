package crema.engine.layers;

import caffe.Caffe.ConvolutionParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import java.util.Arrays;
import java.util.List;

/**
 * What Convolution and Deconvolution share, as Caffe's BaseConvolutionLayer: the parameters, the
 * shapes, and the three matrix products over im2col's columns, one group at a time.
 *
 * <p>Caffe lowers and multiplies one image at a time. Where an image's output rows are short
 * (LeNet's conv2: 8 wide), its im2col copies a few floats at a time and its products are only a few
 * dozen positions wide; there the layer takes a chunk of images ({@link #chunk}, within
 * {@link #CHUNK_FLOATS}) at once: packs them batch-minor and zero-padded ({@link Im2col#pack}), so
 * im2col and col2im move runs of row length × images floats, and multiplies each group's forward
 * and data-gradient product as one GEMM over all the chunk's positions, gathering and scattering
 * the per-image outputs. Each output element is the same dot product over the same window, and
 * col2im adds in Caffe's order. The weight gradient stays one GEMM per image in image order, so
 * its sums are Caffe's too. With longer rows (chunk = 1) the products run straight on the blobs, as
 * Caffe's do.
 *
 * <p>Weights are (conv_out_channels, conv_in_channels / group, kernel_h, kernel_w): for a
 * convolution the outputs are num_output and the inputs the bottom's channels; Deconvolution
 * reverses the two. Each bottom gets its own top, all through the same weights.
 */
abstract class BaseConvolutionLayer extends Layer {
  /**
   * The column matrix of a chunk, in floats (1 MiB): a chunk takes as many images as keep it within
   * this, at least one, so that the columns are written and multiplied while still in the core's
   * L2 cache (larger chunks measured slower on LeNet and CIFAR-10 quick).
   */
  static final int CHUNK_FLOATS = 1 << 18;
  /**
   * Output rows at least this long are lowered one image at a time, as Caffe does: its im2col then
   * copies runs long enough, and packing several images costs more than it saves (measured: LeNet's
   * conv1, 24 wide, is faster per image; its conv2, 8 wide, half again as fast in chunks).
   */
  static final int SHORT_ROW = 16;

  final ConvolutionParameter p;
  final Im2col window;
  private final int numOutput;
  private final int group;
  private int channelAxis;
  private int channels;
  private int convInChannels;
  private int convOutChannels;
  private int kernelDim;
  private int weightOffset;
  private int convOutSpatialDim;
  private int outSpatialDim;
  /** The shape im2col reads: (conv_in_channels, height, width) of the bottom, or of the top when reversed. */
  private int inHeight;
  private int inWidth;
  int num;
  int bottomDim;
  int topDim;
  /** Images per product. */
  int chunk;
  /**
   * Scratch arrays shared by every convolution on a thread, grown to the largest asked for: the
   * columns (Caffe's col_buffer), the packed images and the product matrix of a chunk. Each is used
   * within one call only, so a net needs one set per thread rather than one per layer.
   */
  private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][0]);
  private static final int COL = 0;
  private static final int PACKED = 1;
  private static final int PRODUCT = 2;
  /** The weight gradient being summed, transposed (see {@link #beginWeightGradient}). */
  private static final int WEIGHT_GRADIENT = 3;
  /** The columns of a chunk: kernelDim·group rows, chunk·convOutSpatialDim columns. */
  private long colSize;
  /** The product side of a chunk: conv_out_channels rows, chunk·convOutSpatialDim columns. */
  private long productSize;
  /** Where {@link #toColumns} left the chunk's columns (the scratch columns, or the image itself for 1×1). */
  private float[] cols;
  private int colsOff;
  /** The column side of a chunk, packed batch-minor and padded ({@link Im2col#pack}). */
  private long packedSize;
  private float[] biasMultiplier = new float[0];

  BaseConvolutionLayer(LayerParameter param) {
    super(param);
    p = param().getConvolutionParam();
    if (p.getNumOutput() <= 0) {
      throw new IllegalArgumentException("convolution_param.num_output must be given and positive");
    }
    numOutput = p.getNumOutput();
    group = p.getGroup();
    window = Im2col.of(p);
  }

  /** Deconvolution: the bottom is the product's output side. */
  abstract boolean reverse();

  /** The top's spatial size along one axis from the bottom's. */
  abstract int outputSize(int input, int kernel, int pad, int stride, int dilation);

  @Override
  protected int minBottoms() {
    return 1;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected boolean equalBottomTopCounts() {
    return true;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    channelAxis = b.canonicalAxis(p.getAxis());
    channels = b.shape(channelAxis);
    if (group <= 0 || channels % group != 0) {
      throw new IllegalArgumentException("convolution_param.group " + group + " must divide the "
          + channels + " input channels");
    }
    if (numOutput % group != 0) {
      throw new IllegalArgumentException("convolution_param.num_output " + numOutput
          + " must be a multiple of group " + group);
    }
    convOutChannels = reverse() ? channels : numOutput;
    convInChannels = reverse() ? numOutput : channels;
    Blob weights = new Blob(convOutChannels, convInChannels / group, window.kernelH, window.kernelW);
    Filler.fill(p.getWeightFiller(), weights, rng());
    blobs().add(weights);
    if (p.getBiasTerm()) {
      Blob bias = new Blob(numOutput);
      Filler.fill(p.getBiasFiller(), bias, rng());
      blobs().add(bias);
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int spatialAxes = b.numAxes() - channelAxis - 1;
    if (spatialAxes != 2) {
      throw new IllegalArgumentException(type() + " is 2-D: the bottom " + b.shapeString() + " has "
          + spatialAxes + " spatial axes after the channel axis " + channelAxis);
    }
    if (b.shape(channelAxis) != channels) {
      throw new IllegalArgumentException("Input size incompatible with convolution kernel: the weights"
          + " expect " + channels + " channels, the bottom " + b.shapeString() + " has " + b.shape(channelAxis));
    }
    for (Blob other : bottom) {
      if (!Arrays.equals(other.shape(), b.shape())) {
        throw new IllegalArgumentException("all bottoms of " + type() + " must have one shape: "
            + b.shapeString() + " and " + other.shapeString());
      }
    }
    int h = b.shape(channelAxis + 1);
    int w = b.shape(channelAxis + 2);
    int outH = outputSize(h, window.kernelH, window.padH, window.strideH, window.dilationH);
    int outW = outputSize(w, window.kernelW, window.padW, window.strideW, window.dilationW);
    if (outH <= 0 || outW <= 0) {
      throw new IllegalArgumentException(type() + " output would be " + outH + "x" + outW + " for the bottom "
          + b.shapeString());
    }
    int[] topShape = Arrays.copyOf(b.shape(), channelAxis + 3);
    topShape[channelAxis] = numOutput;
    topShape[channelAxis + 1] = outH;
    topShape[channelAxis + 2] = outW;
    for (Blob t : top) {
      t.reshape(topShape);
    }
    num = b.count(0, channelAxis);
    bottomDim = b.count(channelAxis);
    topDim = top.get(0).count(channelAxis);
    outSpatialDim = outH * outW;
    convOutSpatialDim = reverse() ? h * w : outSpatialDim;
    inHeight = reverse() ? outH : h;
    inWidth = reverse() ? outW : w;
    kernelDim = convInChannels / group * window.kernelH * window.kernelW;
    weightOffset = convOutChannels * kernelDim / group;
    chunk = chunkFor(num, kernelDim * group, convOutSpatialDim, window.outputW(inWidth));
    long columns = (long) chunk * convOutSpatialDim;
    colSize = kernelDim * group * columns;
    packedSize = (long) convInChannels * (inHeight + 2 * window.padH) * (inWidth + 2 * window.padW) * chunk;
    productSize = convOutChannels * columns;
    if (p.getBiasTerm() && biasMultiplier.length != outSpatialDim) {
      biasMultiplier = new float[outSpatialDim];
      Arrays.fill(biasMultiplier, 1f);
    }
  }

  /** This thread's scratch array {@code which}, at least {@code size} floats long. */
  private static float[] scratch(int which, long size) {
    float[][] arrays = SCRATCH.get();
    if (arrays[which].length < size) {
      arrays[which] = new float[Math.toIntExact(size)];
    }
    return arrays[which];
  }

  /**
   * Images per product: one when the output rows are {@link #SHORT_ROW} or longer, else as many as
   * keep rows × positions × images within {@link #CHUNK_FLOATS}.
   */
  static int chunkFor(int num, int rows, int positions, int rowLength) {
    if (rowLength >= SHORT_ROW) {
      return 1;
    }
    return (int) Math.max(1, Math.min(num, CHUNK_FLOATS / ((long) rows * positions)));
  }

  /**
   * The columns of the column side of images [n0, n0 + c): with one image, Caffe's im2col of it
   * (a 1×1 kernel reads the image itself); with several, packed batch-minor and lowered from there.
   * Leaves {@link #cols} and {@link #colsOff} pointing at them.
   */
  private void toColumns(float[] src, int dim, int n0, int c) {
    float[] col = c == 1 && window.isOneByOne() ? null : scratch(COL, colSize);
    cols = col;
    colsOff = 0;
    if (c == 1) {
      if (window.isOneByOne()) {
        cols = src;
        colsOff = n0 * dim;
      } else {
        window.im2col(src, n0 * dim, convInChannels, inHeight, inWidth, col, 0);
      }
    } else if (window.isOneByOne()) {
      // The packed images are the columns.
      window.pack(src, n0 * dim, dim, c, convInChannels, inHeight, inWidth, col);
    } else {
      float[] packed = scratch(PACKED, packedSize);
      window.pack(src, n0 * dim, dim, c, convInChannels, inHeight, inWidth, packed);
      window.packedToColumns(packed, c, convInChannels, inHeight, inWidth, col);
    }
  }

  /**
   * The product side of images [n0, n0 + c) = W · columns(column side), per group (Caffe's
   * forward_cpu_gemm), plus {@code bias} per channel when given (one float add, as Caffe's bias
   * GEMM with k = 1 makes). One image multiplies straight into {@code dst}, as Caffe does.
   */
  final void forwardProduct(float[] weights, float[] src, int srcDim, float[] dst, int dstDim, int n0,
      int c, float[] bias) {
    toColumns(src, srcDim, n0, c);
    int ld = c * convOutSpatialDim;
    int outs = convOutChannels / group;
    float[] out = c == 1 ? dst : scratch(PRODUCT, productSize);
    int outOff = c == 1 ? n0 * dstDim : 0;
    for (int g = 0; g < group; g++) {
      math().gemm(false, false, outs, ld, kernelDim, 1f, weights, weightOffset * g, cols,
          colsOff + kernelDim * ld * g, 0f, out, outOff + outs * ld * g);
    }
    cols = null;
    if (c > 1) {
      scatterProduct(out, dst, dstDim, n0, c, bias);
    } else if (bias != null) {
      addBias(dst, n0 * dstDim, bias);
    }
  }

  /**
   * The column side of images [n0, n0 + c) = col2im(Wᵀ · product side), per group (Caffe's
   * backward_cpu_gemm); overwritten. col2im adds in Caffe's order.
   */
  final void backwardProduct(float[] weights, float[] src, int srcDim, float[] dst, int dstDim, int n0,
      int c) {
    int ld = c * convOutSpatialDim;
    int outs = convOutChannels / group;
    if (c > 1) {
      float[] product = scratch(PRODUCT, productSize);
      gatherProduct(src, srcDim, n0, c, product);
      backwardGathered(weights, product, dst, dstDim, n0, c);
      return;
    }
    boolean direct = window.isOneByOne();
    float[] col = direct ? null : scratch(COL, colSize);
    float[] out = direct ? dst : col;
    int outOff = direct ? n0 * dstDim : 0;
    for (int g = 0; g < group; g++) {
      math().gemm(true, false, kernelDim, ld, outs, 1f, weights, weightOffset * g, src, n0 * srcDim + outs * ld * g,
          0f, out, outOff + kernelDim * ld * g);
    }
    if (!direct) {
      window.col2im(col, 0, convInChannels, inHeight, inWidth, dst, n0 * dstDim);
    }
  }

  /** The column side of a chunk of c > 1 images from its gathered product side (see backwardProduct). */
  private void backwardGathered(float[] weights, float[] product, float[] dst, int dstDim, int n0, int c) {
    int ld = c * convOutSpatialDim;
    int outs = convOutChannels / group;
    float[] col = scratch(COL, colSize);
    for (int g = 0; g < group; g++) {
      math().gemm(true, false, kernelDim, ld, outs, 1f, weights, weightOffset * g, product, outs * ld * g,
          0f, col, kernelDim * ld * g);
    }
    if (window.isOneByOne()) {
      window.unpack(col, c, convInChannels, inHeight, inWidth, dst, n0 * dstDim, dstDim);
    } else {
      float[] packed = scratch(PACKED, packedSize);
      window.columnsToPacked(col, c, convInChannels, inHeight, inWidth, packed);
      window.unpack(packed, c, convInChannels, inHeight, inWidth, dst, n0 * dstDim, dstDim);
    }
  }

  /**
   * The backward pass of images [n0, n0 + c) taken as one chunk (c > 1): the weight gradient
   * summed as one GEMM per group over all the chunk's positions (between
   * {@link #beginWeightGradient} and {@link #endWeightGradient}) when {@code weightDiff} asks for
   * it, then, when
   * {@code dx} is given, the data gradient as {@link #backwardProduct} makes it. The columns are
   * lowered once for both, where Caffe lowers every image again for its per-image weight GEMM; the
   * chunk's sum adds the same products in another order (to rounding, within the fixtures' 1e-5).
   */
  final void backwardChunk(float[] weights, float[] x, float[] dy, float[] dx, boolean weightDiff,
      int n0, int c) {
    int ld = c * convOutSpatialDim;
    int outs = convOutChannels / group;
    float[] product = scratch(PRODUCT, productSize);
    gatherProduct(dy, topDim, n0, c, product);
    if (weightDiff) {
      toColumns(x, bottomDim, n0, c);
      float[] sum = scratch(WEIGHT_GRADIENT, (long) kernelDim * convOutChannels);
      for (int g = 0; g < group; g++) {
        math().gemm(false, true, kernelDim, outs, ld, 1f, cols, colsOff + kernelDim * ld * g, product,
            outs * ld * g, 1f, sum, kernelDim * outs * g);
      }
      cols = null;
    }
    if (dx != null) {
      backwardGathered(weights, product, dx, bottomDim, n0, c);
    }
  }

  /** The product side of images [n0, n0 + c) → the product matrix, position-major: (q·c + i). */
  private void gatherProduct(float[] src, int dim, int n0, int c, float[] product) {
    int ld = c * convOutSpatialDim;
    for (int i = 0; i < c; i++) {
      int from = (n0 + i) * dim;
      for (int o = 0; o < convOutChannels; o++) {
        int f = from + o * convOutSpatialDim;
        for (int q = 0, to = o * ld + i; q < convOutSpatialDim; q++, to += c) {
          product[to] = src[f + q];
        }
      }
    }
  }

  /** The product matrix → the product side of images [n0, n0 + c), plus {@code bias} when given. */
  private void scatterProduct(float[] product, float[] dst, int dim, int n0, int c, float[] bias) {
    int ld = c * convOutSpatialDim;
    for (int i = 0; i < c; i++) {
      int to = (n0 + i) * dim;
      for (int o = 0; o < convOutChannels; o++) {
        int t = to + o * convOutSpatialDim;
        if (bias == null) {
          for (int q = 0, from = o * ld + i; q < convOutSpatialDim; q++, from += c) {
            dst[t + q] = product[from];
          }
        } else {
          float b = bias[o];
          for (int q = 0, from = o * ld + i; q < convOutSpatialDim; q++, from += c) {
            dst[t + q] = product[from] + b;
          }
        }
      }
    }
  }

  /**
   * Starts a weight gradient: the images' terms are summed transposed, dWᵀ = columns · productᵀ
   * (kernel_dim × conv_out_channels per group), by {@link #weightGradient} and
   * {@link #backwardChunk}, and {@link #endWeightGradient} adds the sum to the weights' diff. With
   * few output channels (LeNet's 20 and 50, CIFAR-10 quick's 32) that GEMM has them as its narrow
   * side, which OpenBLAS runs about a third faster than Caffe's dW += product · columnsᵀ (measured
   * 87 against 136 GFLOP/s on CIFAR-10 quick's conv2). The sum starts at zero and takes the
   * images in order, so with a zeroed diff, as every iteration starts, each element sums the same
   * images' terms in the same order as Caffe's (to the GEMM's rounding).
   */
  final void beginWeightGradient() {
    Arrays.fill(scratch(WEIGHT_GRADIENT, (long) kernelDim * convOutChannels), 0, kernelDim * convOutChannels, 0f);
  }

  /**
   * Adds image n's term to the weight gradient begun by {@link #beginWeightGradient}: the product
   * side in {@code prodSide}, the column side in {@code colSide} through Caffe's per-image im2col.
   */
  final void weightGradient(float[] colSide, int colDim, float[] prodSide, int prodDim, int n) {
    toColumns(colSide, colDim, n, 1);
    float[] sum = scratch(WEIGHT_GRADIENT, (long) kernelDim * convOutChannels);
    int prodOff = n * prodDim;
    int outs = convOutChannels / group;
    for (int g = 0; g < group; g++) {
      math().gemm(false, true, kernelDim, outs, convOutSpatialDim, 1f, cols,
          colsOff + kernelDim * convOutSpatialDim * g, prodSide, prodOff + outs * convOutSpatialDim * g, 1f,
          sum, kernelDim * outs * g);
    }
    cols = null;
  }

  /** {@code weightDiff} += the weight gradient summed since {@link #beginWeightGradient}, transposed back. */
  final void endWeightGradient(float[] weightDiff) {
    float[] sum = scratch(WEIGHT_GRADIENT, (long) kernelDim * convOutChannels);
    int outs = convOutChannels / group;
    for (int g = 0; g < group; g++) {
      for (int o = 0; o < outs; o++) {
        int to = weightOffset * g + o * kernelDim;
        for (int r = 0, from = kernelDim * outs * g + o; r < kernelDim; r++, from += outs) {
          weightDiff[to + r] += sum[from];
        }
      }
    }
  }

  /** output += bias broadcast over positions, for one image at {@code outOff}. */
  final void addBias(float[] output, int outOff, float[] bias) {
    for (int o = 0; o < numOutput; o++) {
      float b = bias[o];
      for (int q = outOff + o * outSpatialDim, end = q + outSpatialDim; q < end; q++) {
        output[q] += b;
      }
    }
  }

  /** dbias += Σ over positions of the output's gradient. */
  final void backwardBias(float[] biasDiff, float[] output, int outOff) {
    math().gemv(false, numOutput, outSpatialDim, 1f, output, outOff, biasMultiplier, 0, 1f, biasDiff, 0);
  }

  /** The bias gradient over every image of every top, as both layers take it first. */
  final void backwardBiasAll(List<Blob> top) {
    if (p.getBiasTerm() && paramPropagateDown(1)) {
      float[] biasDiff = blobs().get(1).diff();
      for (Blob t : top) {
        float[] dy = t.diff();
        for (int n = 0; n < num; n++) {
          backwardBias(biasDiff, dy, n * topDim);
        }
      }
    }
  }
}
