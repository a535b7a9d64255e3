package crema.engine.layers;

import caffe.Caffe.PoolingParameter.PoolMethod;
import caffe.Caffe.PoolingParameter.RoundMode;
import crema.engine.Layer;
import crema.engine.NetException;
import crema.engine.Rng;

/**
 * Caffe's 2-D pooling (pooling_layer.cpp, and pooling_layer.cu for STOCHASTIC, which Caffe has on
 * the GPU only) over {@code planes} contiguous H×W planes: the arithmetic of the Pooling layer,
 * shared with LRN's WITHIN_CHANNEL region (an AVE pool of the squares) and SPP (one pool per
 * pyramid level). The loops, their order and the float operations are Caffe's CPU ones, so the
 * results match Caffe's to the last bit or nearly.
 *
 * <p>Window (ph, pw) covers rows [ph·stride − pad, … + kernel) clipped to the image; AVE divides by
 * the window clipped to the padded image only (height + pad), so border windows count their
 * padding. The output size is Caffe's: {@code ceil((h + 2p − k)/s) + 1} (or floor), less one when
 * padded and the last window would start in the padding.
 */
record Pool2d(PoolMethod method, int kernelH, int kernelW, int padH, int padW, int strideH,
    int strideW, int height, int width, int pooledH, int pooledW) {

  /** The geometry for an input of height × width, with Caffe's checks, named after {@code layer}. */
  static Pool2d of(Layer layer, PoolMethod method, int kernelH, int kernelW, int padH, int padW,
      int strideH, int strideW, RoundMode round, int height, int width) {
    if (kernelH <= 0 || kernelW <= 0) {
      throw new NetException(layer, "Filter dimensions cannot be zero (kernel " + kernelH + "x"
          + kernelW + ")");
    }
    if (strideH <= 0 || strideW <= 0) {
      throw new NetException(layer, "stride must be positive (stride " + strideH + "x" + strideW + ")");
    }
    if (padH != 0 || padW != 0) {
      if (method != PoolMethod.AVE && method != PoolMethod.MAX) {
        throw new NetException(layer, "Padding implemented only for average and max pooling"
            + " (pool " + method + ", pad " + padH + "x" + padW + ")");
      }
      if (padH >= kernelH || padW >= kernelW) {
        throw new NetException(layer, "pad must be smaller than the kernel (pad " + padH + "x"
            + padW + ", kernel " + kernelH + "x" + kernelW + ")");
      }
    }
    int pooledH = outputSize(height, padH, kernelH, strideH, round);
    int pooledW = outputSize(width, padW, kernelW, strideW, round);
    if (padH != 0 || padW != 0) {
      // With padding, the last window must start strictly inside the image: otherwise clip it.
      if ((pooledH - 1) * strideH >= height + padH) {
        pooledH--;
      }
      if ((pooledW - 1) * strideW >= width + padW) {
        pooledW--;
      }
      if ((pooledH - 1) * strideH >= height + padH || (pooledW - 1) * strideW >= width + padW) {
        throw new NetException(layer, "the last pooling window starts in the padding (input "
            + height + "x" + width + ", kernel " + kernelH + "x" + kernelW + ", pad " + padH + "x"
            + padW + ", stride " + strideH + "x" + strideW + ")");
      }
    }
    if (pooledH <= 0 || pooledW <= 0) {
      throw new NetException(layer, "the kernel " + kernelH + "x" + kernelW + " (pad " + padH
          + "x" + padW + ") does not fit the input " + height + "x" + width);
    }
    return new Pool2d(method, kernelH, kernelW, padH, padW, strideH, strideW, height, width,
        pooledH, pooledW);
  }

  private static int outputSize(int size, int pad, int kernel, int stride, RoundMode round) {
    float span = (float) (size + 2 * pad - kernel) / stride;
    return (int) (round == RoundMode.FLOOR ? Math.floor(span) : Math.ceil(span)) + 1;
  }

  int planeSize() {
    return height * width;
  }

  int pooledSize() {
    return pooledH * pooledW;
  }

  /**
   * MAX: each output is its window's largest input (the first one on ties, padding never counts);
   * {@code mask} gets its index in the plane (h·W + w), −1 for an empty window (whose output is
   * −FLT_MAX, as Caffe's).
   *
   * <p>Caffe's loop asks {@code v > best} of every input, a branch that after a convolution (signs
   * at random) is mispredicted about every other time; that was most of LeNet's pooling time. Here
   * a window's maximum is taken with {@link Math#max} and its index is the first input equal to
   * it, chosen by selects, all without data-dependent branches; that is Caffe's maximum and index
   * (the first of equal values, −0 and +0 alike), and the output is read back from that input so
   * a zero keeps its sign. Where the two could differ (a NaN, which Caffe's comparison never
   * takes, or a window with nothing above Caffe's −FLT_MAX start), the plane is pooled again by
   * Caffe's own loop.
   */
  void maxForward(float[] in, float[] out, int[] mask, int planes) {
    // Windows wholly inside the row, [lo, hi): 2×2 and 3×3 ones (LeNet's, CIFAR-10's, AlexNet's)
    // are unrolled.
    int lo = 0;
    while (lo < pooledW && lo * strideW - padW < 0) {
      lo++;
    }
    int hi = lo;
    while (hi < pooledW && hi * strideW - padW + kernelW <= width) {
      hi++;
    }
    for (int p = 0; p < planes; p++) {
      if (!maxForwardSelect(in, out, mask, p, lo, hi)) {
        maxForwardCaffe(in, out, mask, p);
      }
    }
  }

  /**
   * Plane {@code p} without branches on the data, windows [lo, hi) of each row wholly inside it;
   * false where it needs Caffe's loop (see above).
   */
  private boolean maxForwardSelect(float[] in, float[] out, int[] mask, int p, int lo, int hi) {
    int inBase = p * planeSize();
    int outBase = p * pooledSize();
    boolean twoByTwo = kernelH == 2 && kernelW == 2;
    boolean threeByThree = kernelH == 3 && kernelW == 3;
    boolean exact = true;
    for (int ph = 0; ph < pooledH; ph++) {
      int hstart = ph * strideH - padH;
      int hend = Math.min(hstart + kernelH, height);
      hstart = Math.max(hstart, 0);
      int outRow = outBase + ph * pooledW;
      boolean unrolled = twoByTwo && hend - hstart == 2;
      boolean unrolled3 = threeByThree && hend - hstart == 3;
      for (int pw = 0; pw < pooledW; pw++) {
        int wstart = pw * strideW - padW;
        float best;
        int bestIndex;
        if (unrolled && pw >= lo && pw < hi) {
          int i0 = hstart * width + wstart;
          int i2 = i0 + width;
          float a = in[inBase + i0];
          float b = in[inBase + i0 + 1];
          float c = in[inBase + i2];
          float d = in[inBase + i2 + 1];
          best = Math.max(Math.max(a, b), Math.max(c, d));
          bestIndex = i2 + 1;
          bestIndex = c == best ? i2 : bestIndex;
          bestIndex = b == best ? i0 + 1 : bestIndex;
          bestIndex = a == best ? i0 : bestIndex;
        } else if (unrolled3 && pw >= lo && pw < hi) {
          // A 3×3 window as a tournament: the maxima with Math.max, the winner's index with a
          // select that keeps the earlier input on a tie, so the first of equal maxima wins; four
          // rounds deep instead of a chain of nine.
          int i0 = hstart * width + wstart;
          int i3 = i0 + width;
          int i6 = i3 + width;
          float a = in[inBase + i0];
          float b = in[inBase + i0 + 1];
          float c = in[inBase + i0 + 2];
          float d = in[inBase + i3];
          float e = in[inBase + i3 + 1];
          float f = in[inBase + i3 + 2];
          float g = in[inBase + i6];
          float h = in[inBase + i6 + 1];
          float i = in[inBase + i6 + 2];
          int iab = b > a ? i0 + 1 : i0;
          float ab = Math.max(a, b);
          int icd = d > c ? i3 : i0 + 2;
          float cd = Math.max(c, d);
          int ief = f > e ? i3 + 2 : i3 + 1;
          float ef = Math.max(e, f);
          int igh = h > g ? i6 + 1 : i6;
          float gh = Math.max(g, h);
          int iad = cd > ab ? icd : iab;
          float ad = Math.max(ab, cd);
          int ieh = gh > ef ? igh : ief;
          float eh = Math.max(ef, gh);
          int iah = eh > ad ? ieh : iad;
          float ah = Math.max(ad, eh);
          bestIndex = i > ah ? i6 + 2 : iah;
          best = Math.max(ah, i);
        } else {
          int wend = Math.min(wstart + kernelW, width);
          wstart = Math.max(wstart, 0);
          best = in[inBase + hstart * width + wstart];
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              best = Math.max(best, in[inBase + h * width + w]);
            }
          }
          bestIndex = -1;
          for (int h = hend - 1; h >= hstart; h--) {
            for (int w = wend - 1; w >= wstart; w--) {
              int index = h * width + w;
              bestIndex = in[inBase + index] == best ? index : bestIndex;
            }
          }
        }
        exact &= best > -Float.MAX_VALUE;
        out[outRow + pw] = exact ? in[inBase + bestIndex] : best;
        mask[outRow + pw] = bestIndex;
      }
    }
    return exact;
  }

  /** Plane {@code p} by Caffe's loop: {@code v > best} from −FLT_MAX, window by window. */
  private void maxForwardCaffe(float[] in, float[] out, int[] mask, int p) {
    int inBase = p * planeSize();
    int outBase = p * pooledSize();
    for (int ph = 0; ph < pooledH; ph++) {
      int hstart = ph * strideH - padH;
      int hend = Math.min(hstart + kernelH, height);
      hstart = Math.max(hstart, 0);
      for (int pw = 0; pw < pooledW; pw++) {
        int wstart = pw * strideW - padW;
        int wend = Math.min(wstart + kernelW, width);
        wstart = Math.max(wstart, 0);
        float best = -Float.MAX_VALUE;
        int bestIndex = -1;
        for (int h = hstart; h < hend; h++) {
          for (int w = wstart; w < wend; w++) {
            int index = h * width + w;
            if (in[inBase + index] > best) {
              best = in[inBase + index];
              bestIndex = index;
            }
          }
        }
        out[outBase + ph * pooledW + pw] = best;
        mask[outBase + ph * pooledW + pw] = bestIndex;
      }
    }
  }

  /**
   * MAX and STOCHASTIC (TRAIN) backward: each output's gradient goes to the input {@code mask}
   * names, accumulated in output order; {@code bottomDiff} is zeroed first.
   */
  void scatterBackward(float[] topDiff, int[] mask, float[] bottomDiff, int planes) {
    java.util.Arrays.fill(bottomDiff, 0, planes * planeSize(), 0f);
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int i = 0; i < pooledSize(); i++) {
        int index = mask[outBase + i];
        if (index >= 0) {
          bottomDiff[inBase + index] += topDiff[outBase + i];
        }
      }
    }
  }

  /** AVE: the sum of the window inside the image over the size of the window inside the padded image. */
  void aveForward(float[] in, float[] out, int planes) {
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int ph = 0; ph < pooledH; ph++) {
        for (int pw = 0; pw < pooledW; pw++) {
          int hstart = ph * strideH - padH;
          int wstart = pw * strideW - padW;
          int hend = Math.min(hstart + kernelH, height + padH);
          int wend = Math.min(wstart + kernelW, width + padW);
          int poolSize = (hend - hstart) * (wend - wstart);
          hstart = Math.max(hstart, 0);
          wstart = Math.max(wstart, 0);
          hend = Math.min(hend, height);
          wend = Math.min(wend, width);
          float sum = 0f;
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              sum += in[inBase + h * width + w];
            }
          }
          out[outBase + ph * pooledW + pw] = sum / poolSize;
        }
      }
    }
  }

  /** AVE backward: each output's gradient over its pool size to every input of its window. */
  void aveBackward(float[] topDiff, float[] bottomDiff, int planes) {
    java.util.Arrays.fill(bottomDiff, 0, planes * planeSize(), 0f);
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int ph = 0; ph < pooledH; ph++) {
        for (int pw = 0; pw < pooledW; pw++) {
          int hstart = ph * strideH - padH;
          int wstart = pw * strideW - padW;
          int hend = Math.min(hstart + kernelH, height + padH);
          int wend = Math.min(wstart + kernelW, width + padW);
          int poolSize = (hend - hstart) * (wend - wstart);
          hstart = Math.max(hstart, 0);
          wstart = Math.max(wstart, 0);
          hend = Math.min(hend, height);
          wend = Math.min(wend, width);
          float g = topDiff[outBase + ph * pooledW + pw];
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              bottomDiff[inBase + h * width + w] += g / poolSize;
            }
          }
        }
      }
    }
  }

  /**
   * STOCHASTIC, TRAIN (Caffe's StoPoolForwardTrain): one uniform u in [0, 1) per output, drawn
   * from {@code rng} in output order; the output is the first input of the window whose running
   * sum reaches u · (window sum), i.e. an input drawn with probability proportional to its
   * activation (inputs are meant to be non-negative, as after a ReLU). {@code mask} gets its index.
   * Should no input reach the threshold (negative inputs), the window's last input is taken.
   */
  void stochasticTrainForward(float[] in, float[] out, int[] mask, int planes, Rng rng) {
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int ph = 0; ph < pooledH; ph++) {
        int hstart = ph * strideH;
        int hend = Math.min(hstart + kernelH, height);
        for (int pw = 0; pw < pooledW; pw++) {
          int wstart = pw * strideW;
          int wend = Math.min(wstart + kernelW, width);
          float cumsum = 0f;
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              cumsum += in[inBase + h * width + w];
            }
          }
          float threshold = rng.uniform(0f, 1f) * cumsum;
          int chosen = -1;
          cumsum = 0f;
          search:
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              chosen = h * width + w;
              cumsum += in[inBase + chosen];
              if (cumsum >= threshold) {
                break search;
              }
            }
          }
          out[outBase + ph * pooledW + pw] = chosen < 0 ? 0f : in[inBase + chosen];
          mask[outBase + ph * pooledW + pw] = chosen;
        }
      }
    }
  }

  /**
   * STOCHASTIC, TEST (Caffe's StoPoolForwardTest): the activation-weighted average
   * Σx² / Σx over the window, 0 where Σx ≤ 0.
   */
  void stochasticTestForward(float[] in, float[] out, int planes) {
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int ph = 0; ph < pooledH; ph++) {
        int hstart = ph * strideH;
        int hend = Math.min(hstart + kernelH, height);
        for (int pw = 0; pw < pooledW; pw++) {
          int wstart = pw * strideW;
          int wend = Math.min(wstart + kernelW, width);
          float cumsum = 0f;
          float cumvalues = 0f;
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              float x = in[inBase + h * width + w];
              cumsum += x;
              cumvalues += x * x;
            }
          }
          out[outBase + ph * pooledW + pw] = cumsum > 0f ? cumvalues / cumsum : 0f;
        }
      }
    }
  }

  /**
   * STOCHASTIC, TEST backward: the derivative of Σx² / Σx, (2·x·S − Q) / S², for windows with
   * S = Σx > 0 (Caffe has no TEST backward of its own; it reuses stale sampled indices).
   */
  void stochasticTestBackward(float[] in, float[] topDiff, float[] bottomDiff, int planes) {
    java.util.Arrays.fill(bottomDiff, 0, planes * planeSize(), 0f);
    for (int p = 0; p < planes; p++) {
      int inBase = p * planeSize();
      int outBase = p * pooledSize();
      for (int ph = 0; ph < pooledH; ph++) {
        int hstart = ph * strideH;
        int hend = Math.min(hstart + kernelH, height);
        for (int pw = 0; pw < pooledW; pw++) {
          int wstart = pw * strideW;
          int wend = Math.min(wstart + kernelW, width);
          float s = 0f;
          float q = 0f;
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              float x = in[inBase + h * width + w];
              s += x;
              q += x * x;
            }
          }
          if (!(s > 0f)) {
            continue;
          }
          float g = topDiff[outBase + ph * pooledW + pw];
          for (int h = hstart; h < hend; h++) {
            for (int w = wstart; w < wend; w++) {
              float x = in[inBase + h * width + w];
              bottomDiff[inBase + h * width + w] += g * (2 * x * s - q) / (s * s);
            }
          }
        }
      }
    }
  }
}
