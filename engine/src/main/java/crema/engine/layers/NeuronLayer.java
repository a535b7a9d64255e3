package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;

/** An element-wise layer: one bottom, one top of the same shape, may run in place. */
abstract class NeuronLayer extends Layer {
  NeuronLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  private float[] inputCopy = new float[0];

  /** Keeps the input when the layer runs in place, for a backward pass that needs x. */
  protected final void saveInputIfInPlace(List<Blob> bottom, List<Blob> top) {
    if (bottom.get(0) == top.get(0)) {
      Blob b = bottom.get(0);
      if (inputCopy.length < b.count()) {
        inputCopy = new float[b.count()];
      }
      System.arraycopy(b.data(), 0, inputCopy, 0, b.count());
    }
  }

  /** The input x of the last forward pass, even when the layer ran in place. */
  protected final float[] input(List<Blob> bottom, List<Blob> top) {
    return bottom.get(0) == top.get(0) ? inputCopy : bottom.get(0).data();
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    top.get(0).reshapeLike(bottom.get(0));
  }
}
