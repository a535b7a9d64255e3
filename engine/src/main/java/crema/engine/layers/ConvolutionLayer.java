package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.LayerType;
import java.util.List;

/**
 * 2-D convolution with Caffe's kernel, pad, stride, dilation, group and bias_term, lowered to
 * im2col and one GEMM per image and group, as Caffe does (a 1×1 kernel with stride 1 and no pad
 * skips im2col). Output size (in + 2·pad − (dilation·(kernel − 1) + 1)) / stride + 1.
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
    for (int i = 0; i < bottom.size(); i++) {
      float[] x = bottom.get(i).data();
      float[] y = top.get(i).data();
      for (int n = 0; n < num; n++) {
        forwardGemm(x, n * bottomDim, weights, y, n * topDim, false);
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
      if (!paramPropagateDown(0) && !propagateDown[i]) {
        continue;
      }
      float[] dy = top.get(i).diff();
      float[] x = bottom.get(i).data();
      for (int n = 0; n < num; n++) {
        if (paramPropagateDown(0)) {
          weightGemm(x, n * bottomDim, dy, n * topDim, blobs().get(0).diff());
        }
        if (propagateDown[i]) {
          backwardGemm(dy, n * topDim, weights, bottom.get(i).diff(), n * bottomDim);
        }
      }
    }
  }
}
