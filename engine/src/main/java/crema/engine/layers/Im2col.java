package crema.engine.layers;

import caffe.Caffe.ConvolutionParameter;
import java.util.Arrays;
import java.util.List;

/**
 * The geometry of a 2-D convolution window and Caffe's im2col/col2im over it: the lowering that
 * turns a convolution into one matrix product per image (Caffe's {@code im2col.cpp}, same loop
 * order, so the products add in the same order).
 *
 * <p>The column matrix has one row per (channel, kernel row, kernel column), in that order, and one
 * column per output position; windows reaching into the padding read zeros.
 */
final class Im2col {
  final int kernelH;
  final int kernelW;
  final int padH;
  final int padW;
  final int strideH;
  final int strideW;
  final int dilationH;
  final int dilationW;

  private Im2col(int kernelH, int kernelW, int padH, int padW, int strideH, int strideW,
      int dilationH, int dilationW) {
    this.kernelH = kernelH;
    this.kernelW = kernelW;
    this.padH = padH;
    this.padW = padW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.dilationH = dilationH;
    this.dilationW = dilationW;
  }

  /**
   * Reads kernel, pad, stride and dilation from {@code convolution_param} as Caffe does: either
   * {@code kernel_h}/{@code kernel_w} (both) or {@code kernel_size} with one value or one per
   * spatial axis; likewise pad (default 0), stride (default 1) and dilation (default 1).
   *
   * @throws IllegalArgumentException naming the field that is missing or contradicts another
   */
  static Im2col of(ConvolutionParameter p) {
    int[] kernel = new int[2];
    if (p.hasKernelH() || p.hasKernelW()) {
      if (p.getKernelSizeCount() > 0) {
        throw new IllegalArgumentException(
            "convolution_param: either kernel_size or kernel_h/kernel_w should be given, not both");
      }
      if (!p.hasKernelH() || !p.hasKernelW()) {
        throw new IllegalArgumentException("convolution_param: kernel_h and kernel_w must be given together");
      }
      kernel[0] = p.getKernelH();
      kernel[1] = p.getKernelW();
    } else {
      if (p.getKernelSizeCount() == 0) {
        throw new IllegalArgumentException("convolution_param: kernel_size (or kernel_h and kernel_w) is required");
      }
      perAxis("kernel_size", p.getKernelSizeList(), 0, kernel);
    }
    for (int k : kernel) {
      if (k <= 0) {
        throw new IllegalArgumentException("convolution_param: kernel dimensions must be positive, got "
            + kernel[0] + "x" + kernel[1]);
      }
    }
    int[] pad = new int[2];
    if (p.hasPadH() || p.hasPadW()) {
      if (p.getPadCount() > 0) {
        throw new IllegalArgumentException("convolution_param: either pad or pad_h/pad_w should be given, not both");
      }
      pad[0] = p.getPadH();
      pad[1] = p.getPadW();
    } else {
      perAxis("pad", p.getPadList(), 0, pad);
    }
    int[] stride = new int[2];
    if (p.hasStrideH() || p.hasStrideW()) {
      if (p.getStrideCount() > 0) {
        throw new IllegalArgumentException(
            "convolution_param: either stride or stride_h/stride_w should be given, not both");
      }
      stride[0] = p.hasStrideH() ? p.getStrideH() : 1;
      stride[1] = p.hasStrideW() ? p.getStrideW() : 1;
    } else {
      perAxis("stride", p.getStrideList(), 1, stride);
    }
    int[] dilation = new int[2];
    perAxis("dilation", p.getDilationList(), 1, dilation);
    for (int a = 0; a < 2; a++) {
      if (stride[a] <= 0 || dilation[a] <= 0) {
        throw new IllegalArgumentException("convolution_param: stride and dilation must be positive");
      }
    }
    return new Im2col(kernel[0], kernel[1], pad[0], pad[1], stride[0], stride[1], dilation[0], dilation[1]);
  }

  private static void perAxis(String field, List<Integer> values, int fallback, int[] out) {
    switch (values.size()) {
      case 0 -> Arrays.fill(out, fallback);
      case 1 -> Arrays.fill(out, values.get(0));
      case 2 -> {
        out[0] = values.get(0);
        out[1] = values.get(1);
      }
      default -> throw new IllegalArgumentException("convolution_param: " + field + " must be given once or "
          + "once per spatial axis (2), got " + values.size() + " values");
    }
  }

  /** A 1×1 kernel with stride 1 and no pad: the columns are the input itself. */
  boolean isOneByOne() {
    return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0;
  }

  int outputH(int height) {
    return (height + 2 * padH - (dilationH * (kernelH - 1) + 1)) / strideH + 1;
  }

  int outputW(int width) {
    return (width + 2 * padW - (dilationW * (kernelW - 1) + 1)) / strideW + 1;
  }

  /** Rows of the column matrix for {@code channels} input channels. */
  int rows(int channels) {
    return channels * kernelH * kernelW;
  }

  /** Caffe's im2col_cpu: image (channels × height × width at {@code imOff}) → columns at {@code colOff}. */
  void im2col(float[] im, int imOff, int channels, int height, int width, float[] col, int colOff) {
    int outH = outputH(height);
    int outW = outputW(width);
    int c = colOff;
    for (int ch = 0; ch < channels; ch++) {
      int base = imOff + ch * height * width;
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++) {
          int row = -padH + kr * dilationH;
          for (int oy = 0; oy < outH; oy++, row += strideH) {
            if (row < 0 || row >= height) {
              Arrays.fill(col, c, c + outW, 0f);
              c += outW;
              continue;
            }
            int column = -padW + kc * dilationW;
            int rowBase = base + row * width;
            for (int ox = 0; ox < outW; ox++, column += strideW) {
              col[c++] = column >= 0 && column < width ? im[rowBase + column] : 0f;
            }
          }
        }
      }
    }
  }

  /**
   * Caffe's col2im_cpu: columns → image, each image element the sum of the column entries that
   * read it, in im2col's order. Overwrites the image.
   */
  void col2im(float[] col, int colOff, int channels, int height, int width, float[] im, int imOff) {
    Arrays.fill(im, imOff, imOff + channels * height * width, 0f);
    int outH = outputH(height);
    int outW = outputW(width);
    int c = colOff;
    for (int ch = 0; ch < channels; ch++) {
      int base = imOff + ch * height * width;
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++) {
          int row = -padH + kr * dilationH;
          for (int oy = 0; oy < outH; oy++, row += strideH) {
            if (row < 0 || row >= height) {
              c += outW;
              continue;
            }
            int column = -padW + kc * dilationW;
            int rowBase = base + row * width;
            for (int ox = 0; ox < outW; ox++, column += strideW, c++) {
              if (column >= 0 && column < width) {
                im[rowBase + column] += col[c];
              }
            }
          }
        }
      }
    }
  }
}
