package crema.engine.contract;

/**
 * Accuracy and loss of predicted probabilities against true labels, as Caffe's TEST net scores
 * them: Accuracy with top_k 1 (a row is right when no other class scores at least as high as the
 * true one) and SoftmaxWithLoss's −ln(max(p, FLT_MIN)), both averaged over the rows.
 */
public final class Scores {
  private long count;
  private long right;
  private double loss;

  /** Adds one row's probabilities and its true label. */
  public void add(float[] probabilities, int label) {
    float truth = probabilities[label];
    int atLeast = -1;
    for (float p : probabilities) {
      if (p >= truth) {
        atLeast++;
      }
    }
    count++;
    right += atLeast < 1 ? 1 : 0;
    loss -= Math.log(Math.max(truth, Float.MIN_NORMAL));
  }

  public long count() {
    return count;
  }

  public double accuracy() {
    return count == 0 ? 0 : (double) right / count;
  }

  public double loss() {
    return count == 0 ? 0 : loss / count;
  }
}
