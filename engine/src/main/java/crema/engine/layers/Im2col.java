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
    im2col(im, imOff, channels, height, width, col, colOff, outputH(height) * outputW(width));
  }

  /**
   * im2col into a column matrix whose rows are {@code ldCol} apart: the image's output positions
   * fill columns [colOff, colOff + outH·outW) of each row, so the columns of several images lie side
   * by side and one matrix product covers them all. Each row reads the image's valid span with no
   * per-element test (the padding's columns are zero-filled around it); the values are Caffe's.
   */
  private void im2col(float[] im, int imOff, int channels, int height, int width, float[] col,
      int colOff, int ldCol) {
    int outH = outputH(height);
    int outW = outputW(width);
    int plane = height * width;
    if (kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0) {
      for (int ch = 0; ch < channels; ch++) {
        System.arraycopy(im, imOff + ch * plane, col, colOff + ch * ldCol, plane);
      }
      return;
    }
    int r = 0;
    for (int ch = 0; ch < channels; ch++) {
      int base = imOff + ch * plane;
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++, r++) {
          int offset = kc * dilationW - padW;
          int lo = Math.min(outW, firstInside(offset, strideW));
          int hi = Math.max(lo, Math.min(outW, firstInside(offset - width, strideW)));
          int c = colOff + r * ldCol;
          int row0 = kr * dilationH - padH;
          int oyLo = Math.min(outH, firstInside(row0, strideH));
          int oyHi = Math.max(oyLo, Math.min(outH, firstInside(row0 - height, strideH)));
          // Rows of the window above and below the image read the padding: zeros.
          Arrays.fill(col, c, c + oyLo * outW, 0f);
          Arrays.fill(col, c + oyHi * outW, c + outH * outW, 0f);
          int src = base + (row0 + oyLo * strideH) * width + offset;
          int rowStep = strideH * width;
          if (lo == 0 && hi == outW) {
            // The whole row of windows inside the image: a plain strided copy, no padding to write.
            for (int oy = oyLo, to = c + oyLo * outW; oy < oyHi; oy++, src += rowStep, to += outW) {
              if (strideW == 1) {
                for (int ox = 0; ox < outW; ox++) {
                  col[to + ox] = im[src + ox];
                }
              } else {
                for (int ox = 0, from = src; ox < outW; ox++, from += strideW) {
                  col[to + ox] = im[from];
                }
              }
            }
          } else {
            for (int oy = oyLo, to = c + oyLo * outW; oy < oyHi; oy++, src += rowStep, to += outW) {
              Arrays.fill(col, to, to + lo, 0f);
              for (int ox = lo, from = src + lo * strideW; ox < hi; ox++, from += strideW) {
                col[to + ox] = im[from];
              }
              Arrays.fill(col, to + hi, to + outW, 0f);
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
    col2im(col, colOff, outputH(height) * outputW(width), channels, height, width, im, imOff);
  }

  /**
   * col2im from a column matrix whose rows are {@code ldCol} apart (see the strided
   * {@link #im2col(float[], int, int, int, int, float[], int, int) im2col}). The sums add in
   * Caffe's order (kernel row, kernel column, output row, output column), so they are Caffe's.
   */
  private void col2im(float[] col, int colOff, int ldCol, int channels, int height, int width,
      float[] im, int imOff) {
    int outH = outputH(height);
    int outW = outputW(width);
    int plane = height * width;
    if (kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0) {
      for (int ch = 0; ch < channels; ch++) {
        System.arraycopy(col, colOff + ch * ldCol, im, imOff + ch * plane, plane);
      }
      return;
    }
    Arrays.fill(im, imOff, imOff + channels * plane, 0f);
    int r = 0;
    for (int ch = 0; ch < channels; ch++) {
      int base = imOff + ch * plane;
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++, r++) {
          int offset = kc * dilationW - padW;
          int lo = Math.min(outW, firstInside(offset, strideW));
          int hi = Math.max(lo, Math.min(outW, firstInside(offset - width, strideW)));
          int c = colOff + r * ldCol;
          int row0 = kr * dilationH - padH;
          int oyLo = Math.min(outH, firstInside(row0, strideH));
          int oyHi = Math.max(oyLo, Math.min(outH, firstInside(row0 - height, strideH)));
          int dst = base + (row0 + oyLo * strideH) * width + offset + lo * strideW;
          int rowStep = strideH * width;
          for (int oy = oyLo, from = c + oyLo * outW + lo; oy < oyHi; oy++, dst += rowStep, from += outW) {
            if (strideW == 1) {
              for (int ox = 0, n = hi - lo; ox < n; ox++) {
                im[dst + ox] += col[from + ox];
              }
            } else {
              for (int ox = 0, n = hi - lo, to = dst; ox < n; ox++, to += strideW) {
                im[to] += col[from + ox];
              }
            }
          }
        }
      }
    }
  }

  /**
   * Packs {@code c} images (each {@code dim} apart from {@code srcOff}; channels × height × width)
   * batch-minor and zero-padded: {@code packed[((ch·Hp + y + padH)·Wp + x + padW)·c + i]}, with
   * Hp = height + 2·padH and Wp = width + 2·padW. In this layout one window offset reads, for one
   * output row, a single run of outW·c floats (stride 1), so {@link #packedToColumns} and
   * {@link #columnsToPacked} move long runs instead of a few floats at a time.
   */
  void pack(float[] src, int srcOff, int dim, int c, int channels, int height, int width,
      float[] packed) {
    int hp = height + 2 * padH;
    int wp = width + 2 * padW;
    int rowLen = wp * c;
    for (int ch = 0; ch < channels; ch++) {
      int plane = ch * hp * rowLen;
      Arrays.fill(packed, plane, plane + padH * rowLen, 0f);
      Arrays.fill(packed, plane + (padH + height) * rowLen, plane + hp * rowLen, 0f);
      for (int y = 0; y < height; y++) {
        int row = plane + (y + padH) * rowLen;
        Arrays.fill(packed, row, row + padW * c, 0f);
        Arrays.fill(packed, row + (padW + width) * c, row + rowLen, 0f);
        int inner = row + padW * c;
        for (int i = 0; i < c; i++) {
          int from = srcOff + i * dim + (ch * height + y) * width;
          for (int x = 0, to = inner + i; x < width; x++, to += c) {
            packed[to] = src[from + x];
          }
        }
      }
    }
  }

  /** The inverse of {@link #pack}: the images' interior back to their own layout (padding dropped). */
  void unpack(float[] packed, int c, int channels, int height, int width, float[] dst, int dstOff,
      int dim) {
    int hp = height + 2 * padH;
    int rowLen = (width + 2 * padW) * c;
    for (int ch = 0; ch < channels; ch++) {
      for (int y = 0; y < height; y++) {
        int inner = (ch * hp + y + padH) * rowLen + padW * c;
        for (int i = 0; i < c; i++) {
          int to = dstOff + i * dim + (ch * height + y) * width;
          for (int x = 0, from = inner + i; x < width; x++, from += c) {
            dst[to + x] = packed[from];
          }
        }
      }
    }
  }

  /**
   * im2col over {@link #pack packed} images: row (ch, kr, kc) of {@code col}, position
   * (oy·outW + ox)·c + i, is the packed value the window reads; rows are outH·outW·c long.
   */
  void packedToColumns(float[] packed, int c, int channels, int height, int width, float[] col) {
    int outH = outputH(height);
    int outW = outputW(width);
    int hp = height + 2 * padH;
    int rowLen = (width + 2 * padW) * c;
    int run = outW * c;
    int r = 0;
    for (int ch = 0; ch < channels; ch++) {
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++, r++) {
          int to = r * outH * run;
          int from = (ch * hp + kr * dilationH) * rowLen + kc * dilationW * c;
          for (int oy = 0; oy < outH; oy++, from += strideH * rowLen, to += run) {
            if (strideW == 1) {
              System.arraycopy(packed, from, col, to, run);
            } else {
              for (int ox = 0; ox < outW; ox++) {
                System.arraycopy(packed, from + ox * strideW * c, col, to + ox * c, c);
              }
            }
          }
        }
      }
    }
  }

  /**
   * col2im into {@link #pack packed} images, which it overwrites: each packed value is the sum of
   * the column entries that read it, added in Caffe's col2im order (kernel row, kernel column),
   * so the sums are Caffe's.
   */
  void columnsToPacked(float[] col, int c, int channels, int height, int width, float[] packed) {
    int outH = outputH(height);
    int outW = outputW(width);
    int hp = height + 2 * padH;
    int rowLen = (width + 2 * padW) * c;
    int run = outW * c;
    Arrays.fill(packed, 0, channels * hp * rowLen, 0f);
    int r = 0;
    for (int ch = 0; ch < channels; ch++) {
      for (int kr = 0; kr < kernelH; kr++) {
        for (int kc = 0; kc < kernelW; kc++, r++) {
          int from = r * outH * run;
          int to = (ch * hp + kr * dilationH) * rowLen + kc * dilationW * c;
          for (int oy = 0; oy < outH; oy++, to += strideH * rowLen, from += run) {
            if (strideW == 1) {
              for (int j = 0; j < run; j++) {
                packed[to + j] += col[from + j];
              }
            } else {
              for (int ox = 0; ox < outW; ox++) {
                int t = to + ox * strideW * c;
                int f = from + ox * c;
                for (int i = 0; i < c; i++) {
                  packed[t + i] += col[f + i];
                }
              }
            }
          }
        }
      }
    }
  }

  /** The first output index whose input column offset + ox·stride is ≥ 0 (0 when offset ≥ 0). */
  private static int firstInside(int offset, int stride) {
    return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  }
}
