package crema.engine.data;

/**
 * Decoded records of one source, by {@link DatumCursor#recordKey()}, within a memory budget: the
 * values of records 0 … capacity−1 as they are first read, in chunks of 4,096 records allocated as
 * they fill. A source larger than the budget keeps its first records and decodes the rest on every
 * pass. Every record has the shape and the kind (float_data or uint8 data) of the first, which
 * {@link DatumTransformer#check} enforces before anything is put here.
 *
 * <p>Not thread-safe: its owner reads and writes it under one lock, and hands the arrays
 * {@link #values} returns to other threads only for records already written.
 */
final class DatumCache {
  private static final int CHUNK_BITS = 12;
  private static final int CHUNK = 1 << CHUNK_BITS;

  private final int dim;
  private final boolean bytes;
  private final long capacity;
  private Object[] values = new Object[0];
  private int[][] labels = new int[0][];
  private boolean[][] present = new boolean[0][];
  private long size;

  /**
   * A cache for records of {@code dim} values, bytes or floats, holding as many as
   * {@code budgetBytes} allows.
   */
  DatumCache(int dim, boolean bytes, long budgetBytes) {
    this.dim = dim;
    this.bytes = bytes;
    long perRecord = (long) dim * (bytes ? 1 : 4) + 4 + 1;
    long fits = Math.max(0, budgetBytes / perRecord);
    // Large records: a chunk must stay one Java array (keys then all fall in the first chunk).
    long arrayLimit = (long) CHUNK * dim > Integer.MAX_VALUE - 8 ? (Integer.MAX_VALUE - 8) / dim : Long.MAX_VALUE;
    this.capacity = Math.min(fits, arrayLimit);
  }

  /** How many records it may hold. */
  long capacity() {
    return capacity;
  }

  /** How many records it holds. */
  long size() {
    return size;
  }

  boolean bytes() {
    return bytes;
  }

  boolean has(long key) {
    if (key < 0 || key >= capacity) {
      return false;
    }
    int c = (int) (key >>> CHUNK_BITS);
    return c < present.length && present[c] != null && present[c][(int) key & (CHUNK - 1)];
  }

  /** The array holding {@code key}'s values (a float[] or a byte[]), from {@link #offset}. */
  Object values(long key) {
    return values[(int) (key >>> CHUNK_BITS)];
  }

  int offset(long key) {
    return ((int) key & (CHUNK - 1)) * dim;
  }

  int label(long key) {
    return labels[(int) (key >>> CHUNK_BITS)][(int) key & (CHUNK - 1)];
  }

  /**
   * Keeps {@code d} (checked, of this cache's shape and kind) as {@code key}; false when the key is
   * beyond the budget.
   */
  boolean put(long key, RawDatum d) {
    if (key < 0 || key >= capacity) {
      return false;
    }
    int c = (int) (key >>> CHUNK_BITS);
    if (c >= present.length) {
      int n = Math.max(c + 1, present.length * 2);
      values = java.util.Arrays.copyOf(values, n);
      labels = java.util.Arrays.copyOf(labels, n);
      present = java.util.Arrays.copyOf(present, n);
    }
    if (present[c] == null) {
      // The last chunk only as large as the budget leaves.
      int records = (int) Math.min(CHUNK, capacity - ((long) c << CHUNK_BITS));
      values[c] = bytes ? new byte[records * dim] : new float[records * dim];
      labels[c] = new int[records];
      present[c] = new boolean[records];
    }
    int i = (int) key & (CHUNK - 1);
    if (bytes) {
      System.arraycopy(d.data, 0, (byte[]) values[c], i * dim, dim);
    } else {
      System.arraycopy(d.floats, 0, (float[]) values[c], i * dim, dim);
    }
    labels[c][i] = d.label;
    if (!present[c][i]) {
      present[c][i] = true;
      size++;
    }
    return true;
  }
}
