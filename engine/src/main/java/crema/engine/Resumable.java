package crema.engine;

/**
 * A data layer whose read position can be saved in a solver state and restored, so a resumed run
 * reads exactly the rows an uninterrupted one would have read.
 */
public interface Resumable {
  /** Records consumed by forward passes so far (not merely prefetched). */
  long readPosition();

  /** Makes the next forward pass start at record {@code position}. */
  void seekReadPosition(long position);

  /** The source the position refers to, to check on restore. */
  String readSource();
}
