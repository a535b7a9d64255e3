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
 * shapes, and the three matrix products over im2col's columns, one image at a time and one group
 * at a time, in Caffe's order (so results match Caffe's to rounding).
 *
 * <p>Weights are (conv_out_channels, conv_in_channels / group, kernel_h, kernel_w): for a
 * convolution the outputs are num_output and the inputs the bottom's channels; Deconvolution
 * reverses the two. Each bottom gets its own top, all through the same weights.
 */
abstract class BaseConvolutionLayer extends Layer {
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
  private int colOffset;
  private int outputOffset;
  private int convOutSpatialDim;
  private int outSpatialDim;
  /** The shape im2col reads: (conv_in_channels, height, width) of the bottom, or of the top when reversed. */
  private int inHeight;
  private int inWidth;
  int num;
  int bottomDim;
  int topDim;
  private float[] col = new float[0];
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
    colOffset = kernelDim * convOutSpatialDim;
    outputOffset = convOutChannels * convOutSpatialDim / group;
    int colSize = kernelDim * group * convOutSpatialDim;
    if (!window.isOneByOne() && col.length < colSize) {
      col = new float[colSize];
    }
    if (p.getBiasTerm() && biasMultiplier.length != outSpatialDim) {
      biasMultiplier = new float[outSpatialDim];
      Arrays.fill(biasMultiplier, 1f);
    }
  }

  /** output = W · columns(input), per group (Caffe's forward_cpu_gemm). */
  final void forwardGemm(float[] input, int inOff, float[] weights, float[] output, int outOff,
      boolean skipIm2col) {
    float[] cols = input;
    int colsOff = inOff;
    if (!window.isOneByOne()) {
      if (!skipIm2col) {
        window.im2col(input, inOff, convInChannels, inHeight, inWidth, col, 0);
      }
      cols = col;
      colsOff = 0;
    }
    for (int g = 0; g < group; g++) {
      math().gemm(false, false, convOutChannels / group, convOutSpatialDim, kernelDim, 1f, weights,
          weightOffset * g, cols, colsOff + colOffset * g, 0f, output, outOff + outputOffset * g);
    }
  }

  /** output += bias broadcast over positions. */
  final void forwardBias(float[] output, int outOff, float[] bias) {
    math().gemm(false, false, numOutput, outSpatialDim, 1, 1f, bias, 0, biasMultiplier, 0, 1f, output, outOff);
  }

  /** input = columns⁻¹(Wᵀ · output), per group (Caffe's backward_cpu_gemm). */
  final void backwardGemm(float[] output, int outOff, float[] weights, float[] input, int inOff) {
    float[] cols = window.isOneByOne() ? input : col;
    int colsOff = window.isOneByOne() ? inOff : 0;
    for (int g = 0; g < group; g++) {
      math().gemm(true, false, kernelDim, convOutSpatialDim, convOutChannels / group, 1f, weights,
          weightOffset * g, output, outOff + outputOffset * g, 0f, cols, colsOff + colOffset * g);
    }
    if (!window.isOneByOne()) {
      window.col2im(col, 0, convInChannels, inHeight, inWidth, input, inOff);
    }
  }

  /** dW += output · columns(input)ᵀ, per group (Caffe's weight_cpu_gemm). */
  final void weightGemm(float[] input, int inOff, float[] output, int outOff, float[] weightDiff) {
    float[] cols = input;
    int colsOff = inOff;
    if (!window.isOneByOne()) {
      window.im2col(input, inOff, convInChannels, inHeight, inWidth, col, 0);
      cols = col;
      colsOff = 0;
    }
    for (int g = 0; g < group; g++) {
      math().gemm(false, true, convOutChannels / group, kernelDim, convOutSpatialDim, 1f, output,
          outOff + outputOffset * g, cols, colsOff + colOffset * g, 1f, weightDiff, weightOffset * g);
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
