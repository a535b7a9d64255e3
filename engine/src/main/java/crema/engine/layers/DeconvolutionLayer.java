package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * The transpose of a convolution (Caffe's Deconvolution): forward is a convolution's backward
 * pass, so the weights are (bottom channels, num_output / group, kernel_h, kernel_w) and the output
 * size is stride·(in − 1) + dilation·(kernel − 1) + 1 − 2·pad.
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
      for (int n = 0; n < num; n++) {
        backwardGemm(x, n * bottomDim, weights, y, n * topDim);
        if (p.getBiasTerm()) {
          forwardBias(y, n * topDim, blobs().get(1).data());
        }
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    backwardBiasAll(top);
    float[] weights = blobs().get(0).data();
    for (int i = 0; i < top.size(); i++) {
      float[] dy = top.get(i).diff();
      float[] x = bottom.get(i).data();
      for (int n = 0; n < num; n++) {
        if (paramPropagateDown(0)) {
          weightGemm(dy, n * topDim, x, n * bottomDim, blobs().get(0).diff());
        }
        if (propagateDown[i]) {
          // The columns of dy are still in the buffer when the weight gradient just made them.
          forwardGemm(dy, n * topDim, weights, bottom.get(i).diff(), n * bottomDim, paramPropagateDown(0));
        }
      }
    }
  }
}
