package crema.engine.data;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoded records of one source, by {@link DatumCursor#recordKey()}, within a memory budget shared
 * by every cache of the process: records are kept in chunks of up to 4,096 consecutive keys,
 * each allocated when its first record arrives and only if the budget still holds it (the last
 * one as large as what is left). A source larger than the budget keeps the records that came
 * first and decodes the rest on every pass. Every record has the shape and the kind (float_data
 * or uint8 data) of the first, which {@link DatumTransformer#check} enforces before anything is put
 * here. {@link #release()} gives the memory back to the budget.
 *
 * <p>Not thread-safe: its owner reads and writes it under one lock, and hands the arrays
 * {@link #values} returns to other threads only for records already written.
 */
final class DatumCache {
  private final int dim;
  private final boolean bytes;
  private final int chunkBits;
  private final int chunk;
  private final long bytesPerRecord;
  private final AtomicLong budget;
  private Object[] values = new Object[0];
  private int[][] labels = new int[0][];
  private boolean[][] present = new boolean[0][];
  /** Chunks the budget refused (not asked again). */
  private boolean[] refused = new boolean[0];
  private long size;
  private long capacity;
  private long reserved;

  /** A cache for records of {@code dim} values, bytes or floats, taking memory from {@code budget}. */
  DatumCache(int dim, boolean bytes, AtomicLong budget) {
    this.dim = dim;
    this.bytes = bytes;
    this.budget = budget;
    this.bytesPerRecord = (long) dim * (bytes ? 1 : 4) + 4 + 1;
    // A chunk is one Java array: large records make chunks of fewer (a power of two) records.
    int bits = 12;
    while (bits > 0 && (1L << bits) * dim > Integer.MAX_VALUE - 8) {
      bits--;
    }
    this.chunkBits = bits;
    this.chunk = 1 << bits;
  }

  /** How many records the memory taken so far holds. */
  long capacity() {
    return capacity;
  }

  /** How many records it holds. */
  long size() {
    return size;
  }

  boolean has(long key) {
    if (key < 0) {
      return false;
    }
    long c = key >>> chunkBits;
    if (c >= present.length || present[(int) c] == null) {
      return false;
    }
    int i = (int) key & (chunk - 1);
    return i < present[(int) c].length && present[(int) c][i];
  }

  /** The array holding {@code key}'s values (a float[] or a byte[]), from {@link #offset}. */
  Object values(long key) {
    return values[(int) (key >>> chunkBits)];
  }

  int offset(long key) {
    return ((int) key & (chunk - 1)) * dim;
  }

  int label(long key) {
    return labels[(int) (key >>> chunkBits)][(int) key & (chunk - 1)];
  }

  /** Keeps {@code d} (checked, of this cache's shape and kind) as {@code key}; false when the budget has no room. */
  boolean put(long key, RawDatum d) {
    if (key < 0 || key >>> chunkBits >= Integer.MAX_VALUE - 8) {
      return false;
    }
    int c = (int) (key >>> chunkBits);
    int i = (int) key & (chunk - 1);
    if (c >= present.length) {
      int n = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(c + 1L, present.length * 2L));
      values = Arrays.copyOf(values, n);
      labels = Arrays.copyOf(labels, n);
      present = Arrays.copyOf(present, n);
      refused = Arrays.copyOf(refused, n);
    }
    if (present[c] == null) {
      if (refused[c] || !allocate(c)) {
        refused[c] = true;
        return false;
      }
    }
    if (i >= present[c].length) {
      return false;
    }
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

  /** Takes a chunk's memory from the budget (as much of it as is left) and allocates it. */
  private boolean allocate(int c) {
    long records;
    while (true) {
      long left = budget.get();
      records = Math.min(chunk, left / bytesPerRecord);
      if (records <= 0) {
        return false;
      }
      if (budget.compareAndSet(left, left - records * bytesPerRecord)) {
        break;
      }
    }
    reserved += records * bytesPerRecord;
    capacity += records;
    int n = (int) records;
    values[c] = bytes ? new byte[n * dim] : new float[n * dim];
    labels[c] = new int[n];
    present[c] = new boolean[n];
    return true;
  }

  /** Drops the records and gives their memory back to the budget. */
  void release() {
    budget.addAndGet(reserved);
    reserved = 0;
    capacity = 0;
    size = 0;
    values = new Object[0];
    labels = new int[0][];
    present = new boolean[0][];
    refused = new boolean[0];
  }
}
