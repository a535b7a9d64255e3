package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * 2-D convolution with Caffe's kernel, pad, stride, dilation, group and bias_term, lowered to
 * im2col and one GEMM per group over a chunk of images side by side (see
 * {@link BaseConvolutionLayer}); a 1×1 kernel with stride 1 and no pad only copies the images into
 * the column matrix. Output size (in + 2·pad − (dilation·(kernel − 1) + 1)) / stride + 1.
 */
@LayerType("Convolution")
final class ConvolutionLayer extends BaseConvolutionLayer {
  ConvolutionLayer(LayerParameter param) {
    super(param);
  }

  @Override
  boolean reverse() {
    return false;
  }

  @Override
  int outputSize(int input, int kernel, int pad, int stride, int dilation) {
    return (input + 2 * pad - (dilation * (kernel - 1) + 1)) / stride + 1;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] weights = blobs().get(0).data();
    float[] bias = p.getBiasTerm() ? blobs().get(1).data() : null;
    for (int i = 0; i < bottom.size(); i++) {
      float[] x = bottom.get(i).data();
      float[] y = top.get(i).data();
      for (int n0 = 0; n0 < num; n0 += chunk) {
        int c = Math.min(chunk, num - n0);
        forwardProduct(weights, x, bottomDim, y, topDim, n0, c, bias);
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    backwardBiasAll(top);
    float[] weights = blobs().get(0).data();
    boolean weightDiff = paramPropagateDown(0);
    for (int i = 0; i < top.size(); i++) {
      if (!weightDiff && !propagateDown[i]) {
        continue;
      }
      float[] dy = top.get(i).diff();
      float[] x = bottom.get(i).data();
      if (weightDiff) {
        beginWeightGradient();
      }
      if (chunk > 1) {
        // Short output rows: the weight and data gradients of a chunk from one lowering.
        for (int n0 = 0; n0 < num; n0 += chunk) {
          backwardChunk(weights, x, dy, propagateDown[i] ? bottom.get(i).diff() : null, weightDiff,
              n0, Math.min(chunk, num - n0));
        }
      } else {
        for (int n = 0; weightDiff && n < num; n++) {
          weightGradient(x, bottomDim, dy, topDim, n);
        }
        for (int n = 0; propagateDown[i] && n < num; n++) {
          backwardProduct(weights, dy, topDim, bottom.get(i).diff(), bottomDim, n, 1);
        }
      }
      if (weightDiff) {
        endWeightGradient(blobs().get(0).diff());
      }
    }
  }
}
