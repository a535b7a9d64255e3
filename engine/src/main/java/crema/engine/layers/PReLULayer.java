package crema.engine.layers;

import caffe.Caffe.FillerParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.LayerType;
import java.util.List;

/** max(x, 0) + a_c·min(x, 0) with a learned slope a per channel (or one, channel_shared). */
@LayerType("PReLU")
final class PReLULayer extends NeuronLayer {
  private final boolean channelShared;

  PReLULayer(LayerParameter param) {
    super(param);
    channelShared = param().getPreluParam().getChannelShared();
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (bottom.get(0).numAxes() < 2) {
      throw new IllegalArgumentException("PReLU needs a bottom of at least 2 axes, got "
          + bottom.get(0).shapeString());
    }
    Blob slopes = channelShared ? new Blob() : new Blob(bottom.get(0).shape(1));
    FillerParameter filler = param().getPreluParam().hasFiller() ? param().getPreluParam().getFiller()
        : FillerParameter.newBuilder().setType("constant").setValue(0.25f).build();
    Filler.fill(filler, slopes, rng());
    blobs().add(slopes);
  }

  private int channels(Blob b) {
    return b.shape(1);
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    saveInputIfInPlace(bottom, top);
    Blob b = bottom.get(0);
    float[] in = b.data();
    float[] out = top.get(0).data();
    float[] a = blobs().get(0).data();
    int channels = channels(b);
    int dim = b.count(2);
    for (int i = 0, n = b.count(); i < n; i++) {
      int c = channelShared ? 0 : (i / dim) % channels;
      float x = in[i];
      out[i] = Math.max(x, 0) + a[c] * Math.min(x, 0);
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    Blob b = bottom.get(0);
    float[] in = input(bottom, top);
    float[] topDiff = top.get(0).diff();
    float[] a = blobs().get(0).data();
    int channels = channels(b);
    int dim = b.count(2);
    int n = b.count();
    if (paramPropagateDown(0)) {
      float[] aDiff = blobs().get(0).diff();
      for (int i = 0; i < n; i++) {
        int c = channelShared ? 0 : (i / dim) % channels;
        aDiff[c] += topDiff[i] * in[i] * (in[i] <= 0 ? 1 : 0);
      }
    }
    if (propagateDown[0]) {
      float[] bottomDiff = b.diff();
      for (int i = 0; i < n; i++) {
        int c = channelShared ? 0 : (i / dim) % channels;
        bottomDiff[i] = topDiff[i] * (in[i] > 0 ? 1f : a[c]);
      }
    }
  }
}
