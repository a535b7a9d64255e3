package crema.engine.data;

import caffe.Caffe.Datum;
import java.nio.ByteBuffer;

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

  /**
   * The serialised record at the cursor, without advancing, from the buffer's position to its
   * limit; valid until the cursor moves. A Data layer decodes it without building a Datum. The
   * default serialises {@link #peek()}.
   */
  default ByteBuffer peekBytes() {
    return ByteBuffer.wrap(peek().toByteArray());
  }

  /**
   * Advances past the record at the cursor without reading it, exactly as {@link #next()} would
   * (the same position, the same wrap-around): for a reader that kept that record decoded.
   */
  default void skip() {
    next();
  }

  /**
   * A number naming the record at the cursor that stays the same on every pass over the source,
   * counted from 0 at the source's first record (LMDB: its place in key order; Kafka: its offset
   * from the first offset read), so a reader may keep records decoded by this number and
   * {@link #skip} them on later passes; -1 when the cursor has none (nothing is kept). Like
   * {@link #peek()}, asking may wait for the source at the end of a pass.
   */
  default long recordKey() {
    return -1;
  }

  @Override
  void close();
}
