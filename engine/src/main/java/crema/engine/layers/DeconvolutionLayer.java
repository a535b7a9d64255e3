package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * The transpose of a convolution (Caffe's Deconvolution): forward is a convolution's backward
 * pass, so the weights are (bottom channels, num_output / group, kernel_h, kernel_w) and the output
 * size is stride·(in − 1) + dilation·(kernel − 1) + 1 − 2·pad. The products run over chunks of
 * images as the convolution's do ({@link BaseConvolutionLayer}).
 */
@LayerType("Deconvolution")
final class DeconvolutionLayer extends BaseConvolutionLayer {
  DeconvolutionLayer(LayerParameter param) {
    super(param);
  }

  @Override
  boolean reverse() {
    return true;
  }

  @Override
  int outputSize(int input, int kernel, int pad, int stride, int dilation) {
    return stride * (input - 1) + dilation * (kernel - 1) + 1 - 2 * pad;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] weights = blobs().get(0).data();
    for (int i = 0; i < bottom.size(); i++) {
      float[] x = bottom.get(i).data();
      float[] y = top.get(i).data();
      for (int n0 = 0; n0 < num; n0 += chunk) {
        int c = Math.min(chunk, num - n0);
        backwardProduct(weights, x, bottomDim, y, topDim, n0, c);
        if (p.getBiasTerm()) {
          for (int n = n0; n < n0 + c; n++) {
            addBias(y, n * topDim, blobs().get(1).data());
          }
        }
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
        for (int n = 0; n < num; n++) {
          weightGradient(dy, topDim, x, bottomDim, n);
        }
        endWeightGradient(blobs().get(0).diff());
      }
      if (propagateDown[i]) {
        for (int n0 = 0; n0 < num; n0 += chunk) {
          int c = Math.min(chunk, num - n0);
          forwardProduct(weights, dy, topDim, bottom.get(i).diff(), bottomDim, n0, c, null);
        }
      }
    }
  }
}
