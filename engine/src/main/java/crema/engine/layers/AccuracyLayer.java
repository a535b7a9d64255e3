package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import java.util.Arrays;
import java.util.List;

/**
 * Top-k accuracy: a prediction is right when fewer than k classes score strictly higher than the
 * label. An optional second top gives the accuracy per class. Not a loss; no gradient.
 */
@LayerType("Accuracy")
final class AccuracyLayer extends Layer {
  private final int topK;
  private final boolean hasIgnoreLabel;
  private final int ignoreLabel;
  private int axis;
  private int outer;
  private int inner;

  AccuracyLayer(LayerParameter param) {
    super(param);
    topK = param().getAccuracyParam().getTopK();
    hasIgnoreLabel = param().getAccuracyParam().hasIgnoreLabel();
    ignoreLabel = param().getAccuracyParam().getIgnoreLabel();
  }

  @Override
  protected int exactBottoms() {
    return 2;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected int maxTops() {
    return 2;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    axis = bottom.get(0).canonicalAxis(param().getAccuracyParam().getAxis());
    int classes = bottom.get(0).shape(axis);
    if (topK > classes) {
      throw new IllegalArgumentException("top_k must be less than or equal to the number of classes ("
          + topK + " > " + classes + ")");
    }
    outer = bottom.get(0).count(0, axis);
    inner = bottom.get(0).count(axis + 1);
    if (outer * inner != bottom.get(1).count()) {
      throw new IllegalArgumentException("Number of labels must match number of predictions ("
          + bottom.get(0).shapeString() + " vs labels " + bottom.get(1).shapeString() + ")");
    }
    top.get(0).reshape();
    if (top.size() > 1) {
      top.get(1).reshape(classes);
    }
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] x = bottom.get(0).data();
    float[] label = bottom.get(1).data();
    int classes = bottom.get(0).shape(axis);
    int[] perClassCount = new int[classes];
    int[] perClassRight = new int[classes];
    int count = 0;
    int right = 0;
    for (int i = 0; i < outer; i++) {
      for (int j = 0; j < inner; j++) {
        int l = (int) label[i * inner + j];
        if (hasIgnoreLabel && l == ignoreLabel) {
          continue;
        }
        if (l < 0 || l >= classes) {
          throw new IllegalArgumentException("label " + l + " out of range [0, " + classes + ")");
        }
        perClassCount[l]++;
        float truth = x[i * classes * inner + l * inner + j];
        int better = 0;
        for (int k = 0; k < classes && better < topK; k++) {
          if (x[i * classes * inner + k * inner + j] > truth) {
            better++;
          }
        }
        if (better < topK) {
          right++;
          perClassRight[l]++;
        }
        count++;
      }
    }
    top.get(0).data()[0] = count == 0 ? 0f : (float) right / count;
    if (top.size() > 1) {
      float[] pc = top.get(1).data();
      Arrays.fill(pc, 0, classes, 0f);
      for (int c = 0; c < classes; c++) {
        pc[c] = perClassCount[c] == 0 ? 0f : (float) perClassRight[c] / perClassCount[c];
      }
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    for (boolean p : propagateDown) {
      if (p) {
        throw new UnsupportedOperationException("Accuracy has no gradient");
      }
    }
  }
}
