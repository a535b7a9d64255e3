package crema.engine.data;

import caffe.Caffe.Datum;

/**
 * A source of Datum records read in order and wrapping around at the end, like Caffe's DB cursor.
 * The position counts records consumed since the start, over all passes, so a run can record it
 * in its solver state and resume reading exactly where it stopped.
 */
public interface DatumCursor extends AutoCloseable {
  /** The record at the cursor, without advancing. */
  Datum peek();

  /** The record at the cursor; then advances, wrapping to the first record after the last. */
  Datum next();

  /** Records consumed since the start of the source. */
  long position();

  /** Moves the cursor so the next record read is the one at {@code position}. */
  void seek(long position);

  /** The key of the record at the cursor, for messages; may be empty. */
  String key();

  /** A description of the source for messages: its path or topic. */
  String source();

  @Override
  void close();
}
