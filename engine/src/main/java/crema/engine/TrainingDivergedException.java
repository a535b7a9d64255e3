package crema.engine;

import java.nio.file.Path;

/** Training stopped because the loss became NaN/Inf or stuck at −ln(FLT_MIN). */
public class TrainingDivergedException extends RuntimeException {
  private final int iteration;

  public TrainingDivergedException(int iteration, float loss, Path lastSnapshot, String why) {
    super("Training diverged at iteration " + iteration + ": " + why + " (loss = " + loss + "). "
        + "Stopped without snapshotting the diverged weights; "
        + (lastSnapshot == null ? "no snapshot was written before." : "the last good snapshot is " + lastSnapshot + ".")
        + " Lower base_lr, set clip_gradients, or check the labels and inputs.");
    this.iteration = iteration;
  }

  public int iteration() {
    return iteration;
  }
}
