package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.List;

/**
 * Caffe's Im2col layer: each image's convolution windows as columns, top (N, C·kernel_h·kernel_w,
 * out_h, out_w), rows in (channel, kernel row, kernel column) order. Takes convolution_param.
 */
@LayerType("Im2col")
final class Im2colLayer extends Layer {
  private final Im2col window;
  private int channels;
  private int height;
  private int width;

  Im2colLayer(LayerParameter param) {
    super(param);
    window = Im2col.of(param().getConvolutionParam());
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
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    if (b.numAxes() != 4) {
      throw new IllegalArgumentException("Im2col takes an N×C×H×W bottom, got " + b.shapeString());
    }
    channels = b.shape(1);
    height = b.shape(2);
    width = b.shape(3);
    top.get(0).reshape(b.shape(0), window.rows(channels), window.outputH(height), window.outputW(width));
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    int in = channels * height * width;
    int out = top.get(0).count(1);
    for (int n = 0; n < bottom.get(0).shape(0); n++) {
      window.im2col(bottom.get(0).data(), n * in, channels, height, width, top.get(0).data(), n * out);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    int in = channels * height * width;
    int out = top.get(0).count(1);
    for (int n = 0; n < bottom.get(0).shape(0); n++) {
      window.col2im(top.get(0).diff(), n * out, channels, height, width, bottom.get(0).diff(), n * in);
    }
  }
}
