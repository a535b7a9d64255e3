package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.LossParameter.NormalizationMode;
import crema.engine.Blob;
import crema.engine.Layer;
import java.util.List;

/** A layer whose first top is a scalar loss; loss_weight defaults to 1 and labels take no gradient. */
abstract class LossLayer extends Layer {
  LossLayer(LayerParameter param) {
    super(param);
  }

  @Override
  protected int exactBottoms() {
    return 2;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  public boolean isLoss() {
    return true;
  }

  @Override
  public boolean allowForceBackward(int bottomIndex) {
    return bottomIndex != 1;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    if (bottom.get(0).shape(0) != bottom.get(1).shape(0)) {
      throw new IllegalArgumentException("The data and label should have the same first dimension ("
          + bottom.get(0).shapeString() + " vs " + bottom.get(1).shapeString() + ")");
    }
    top.get(0).reshape();
  }

  /** The loss weight the net put into the top's gradient. */
  static float topWeight(List<Blob> top) {
    return top.get(0).diff()[0];
  }

  /** The mode from loss_param, honouring the deprecated {@code normalize} flag. */
  static NormalizationMode normalization(LayerParameter param, NormalizationMode fallback) {
    var lp = param.getLossParam();
    if (lp.hasNormalization()) {
      return lp.getNormalization();
    }
    if (lp.hasNormalize()) {
      return lp.getNormalize() ? NormalizationMode.VALID : NormalizationMode.BATCH_SIZE;
    }
    return fallback;
  }

  /** Caffe's get_normalizer: the divisor, never below 1. */
  static float normalizer(NormalizationMode mode, int outer, int inner, int valid) {
    double n = switch (mode) {
      case FULL -> (double) outer * inner;
      case VALID -> valid == -1 ? (double) outer * inner : valid;
      case BATCH_SIZE -> outer;
      case NONE -> 1;
    };
    return (float) Math.max(1.0, n);
  }
}
