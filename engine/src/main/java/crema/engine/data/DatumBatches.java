package crema.engine.data;

import caffe.Caffe.Datum;
import crema.engine.DataException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reading side of a Data layer (Caffe's BasePrefetchingDataLayer with its DataReader): batches
 * of transformed records from a {@link DatumCursor}, prepared ahead by background threads.
 *
 * <ul>
 *   <li>Records are decoded from their bytes straight into arrays ({@code RawDatum}), without
 *       building protobuf objects; a record only protobuf can read is parsed by it.
 *   <li>When the cursor names its records ({@link DatumCursor#recordKey()}), the decoded records
 *       are kept, within {@value #CACHE_MB_PROPERTY} MiB for all Data layers of the process
 *       (default a quarter of the heap, at most 1 GiB; Otto's 61,878 × 93 floats take 23 MB):
 *       later passes copy them from memory and only move the cursor ({@link DatumCursor#skip()}).
 *       A layer gives its share back when it closes.
 *   <li>{@value #THREADS_PROPERTY} threads (default half the cores, 1 to 4) prepare batches in
 *       parallel: each reads its batch's records from the cursor in turn, in order (reading,
 *       decoding and the random crop and mirror draws stay sequential, so a seed reproduces them),
 *       then transforms them outside the turn. Batches are handed out in the order they were read.
 * </ul>
 *
 * <p>The position recorded for resuming ({@link #position()}) is the cursor's position after the
 * last batch handed out, whatever has been read ahead.
 */
public final class DatumBatches implements AutoCloseable {
  /** System property: MiB of decoded records kept, for all Data layers of the process; 0 keeps none. */
  public static final String CACHE_MB_PROPERTY = "crema.data.cacheMb";
  /** System property: threads preparing batches per Data layer. */
  public static final String THREADS_PROPERTY = "crema.data.threads";

  private static final System.Logger LOG = System.getLogger(DatumBatches.class.getName());

  /** One batch: its outputs, and for each record where its values are and its draws. */
  private static final class Batch {
    final float[] data;
    final float[] label;
    final Object[] src;
    final int[] srcOffset;
    final int[] draws;
    float[] stagedFloats;
    byte[] stagedBytes;
    long seq;
    long end;
    RuntimeException error;
    /** Every record is a kept one and the transform is a plain affine map: the taker transforms. */
    boolean deferred;

    Batch(int batchSize, int item) {
      data = new float[batchSize * item];
      label = new float[batchSize];
      src = new Object[batchSize];
      srcOffset = new int[batchSize];
      draws = new int[3 * batchSize];
    }
  }

  private final DatumCursor cursor;
  private final DatumTransformer transformer;
  private final String name;
  private final int batchSize;
  private final int channels;
  private final int height;
  private final int width;
  private final int dim;
  private final int item;
  private final int[] itemShape;
  private final AtomicLong cacheBudget;
  private final int threads;
  /** Whether the transform copies float_data as it is (then item == dim). */
  private final boolean identity;

  /** Guards the cursor, the cache, {@link #raw}, {@link #nextSeq} and {@link #failed}. */
  private final Object readLock = new Object();
  private final RawDatum raw = new RawDatum();
  private DatumCache cache;
  private long nextSeq;
  private boolean failed;

  private final Batch[] pool;
  /** Batches to fill; guarded by itself. */
  private final ArrayDeque<Batch> free;
  /** How many free batches wake a waiting preparer: one wake-up per several batches. */
  private final int wakeAt;
  private boolean preparerWaiting;
  /** Prepared batches by sequence number (mod the pool size); guarded by itself. */
  private final Batch[] ready;
  private long wantSeq;
  private RuntimeException failure;
  private Thread[] workers = new Thread[0];
  private volatile boolean stopping;
  private long consumed;

  /**
   * Checks the record at the cursor (the first to read) and starts preparing batches of
   * {@code batchSize}, up to {@code prefetch} ahead. {@code name} names the layer in messages.
   * The cursor is this object's from now on: {@link #close()} closes it.
   */
  public DatumBatches(DatumCursor cursor, DatumTransformer transformer, int batchSize, int prefetch,
      String name) {
    this(cursor, transformer, batchSize, prefetch, name, ProcessBudget.BYTES, Integer.getInteger(THREADS_PROPERTY,
        Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2))));
  }

  /** With a cache budget (bytes left, shared with other readers) and a thread count of the caller's. */
  DatumBatches(DatumCursor cursor, DatumTransformer transformer, int batchSize, int prefetch, String name,
      AtomicLong cacheBudget, int threads) {
    this.cursor = cursor;
    this.transformer = transformer;
    this.name = name;
    this.batchSize = batchSize;
    Datum first = transformer.decoded(cursor.peek());
    transformer.check(first, () -> where(cursor.position(), cursor.key()));
    itemShape = transformer.itemShape(first);
    channels = first.getChannels();
    height = first.getHeight();
    width = first.getWidth();
    dim = channels * height * width;
    item = itemShape[0] * itemShape[1] * itemShape[2];
    this.identity = transformer.identity();
    this.cacheBudget = cacheBudget;
    this.threads = Math.max(1, threads);
    // Small batches get a deeper pool (up to 4 MiB of them), so that the threads preparing them
    // are woken once per several batches, not once per batch on the compute thread's time.
    long batchBytes = 4L * batchSize * item;
    int size = (int) Math.max(Math.max(1, prefetch) + this.threads, Math.min(32, (4L << 20) / Math.max(1, batchBytes)));
    pool = new Batch[size];
    free = new ArrayDeque<>(size);
    wakeAt = Math.max(1, size / 2);
    ready = new Batch[size];
    for (int i = 0; i < size; i++) {
      pool[i] = new Batch(batchSize, item);
    }
    consumed = cursor.position();
    start();
  }

  /** The process's budget for kept records, read from the property when first needed. */
  private static final class ProcessBudget {
    static final AtomicLong BYTES = new AtomicLong(Math.max(0, Long.getLong(CACHE_MB_PROPERTY,
        Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 4) >> 20)) << 20);
  }

  /** The shape of one item: (C, H, W) after cropping. */
  public int[] itemShape() {
    return itemShape.clone();
  }

  /** The cursor's position after the last batch {@link #next} handed out. */
  public long position() {
    return consumed;
  }

  /** Records kept decoded, and how many may be: for tests and logs. */
  long[] cacheSize() {
    synchronized (readLock) {
      return cache == null ? new long[] {0, 0} : new long[] {cache.size(), cache.capacity()};
    }
  }

  /**
   * Copies the next batch into {@code data} (batch × item values) and {@code label} (batch values,
   * or null to skip), waiting for it if it is not ready; throws what reading it threw.
   */
  public void next(float[] data, float[] label) {
    if (failure != null) {
      throw failure;
    }
    Batch b;
    synchronized (ready) {
      int slot = (int) (wantSeq % ready.length);
      if (ready[slot] == null) {
        LOG.log(Level.DEBUG, "Data layer prefetch queue empty");
      }
      while (ready[slot] == null) {
        try {
          ready.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new DataException("interrupted while waiting for data from " + cursor.source());
        }
      }
      b = ready[slot];
      ready[slot] = null;
      wantSeq++;
    }
    if (b.error != null) {
      failure = b.error;
      throw failure;
    }
    if (b.deferred) {
      // Straight from the kept records into the caller's array: they are read-only and shared,
      // while a batch another core has just written would have to come over from that core's
      // cache line by line, and the transform here costs no more than that copy.
      transform(b, data);
    } else {
      System.arraycopy(b.data, 0, data, 0, b.data.length);
    }
    if (label != null) {
      System.arraycopy(b.label, 0, label, 0, batchSize);
    }
    consumed = b.end;
    synchronized (free) {
      free.add(b);
      if (preparerWaiting && free.size() >= wakeAt) {
        preparerWaiting = false;
        free.notifyAll();
      }
    }
  }

  /** A batch to fill, waiting until several are free. */
  private Batch takeFree() throws InterruptedException {
    synchronized (free) {
      while (free.isEmpty()) {
        preparerWaiting = true;
        free.wait();
      }
      return free.poll();
    }
  }

  /** Moves the cursor so the next batch starts at {@code position}; batches read ahead are dropped. */
  public void seek(long position) {
    stop();
    cursor.seek(position);
    consumed = position;
    start();
  }

  /** The source's description (its path or topic). */
  public String source() {
    return cursor.source();
  }

  private void start() {
    stopping = false;
    failed = false;
    failure = null;
    nextSeq = 0;
    wantSeq = 0;
    java.util.Arrays.fill(ready, null);
    synchronized (free) {
      free.clear();
      preparerWaiting = false;
      for (Batch b : pool) {
        free.add(b);
      }
    }
    workers = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::work, "prefetch-" + name + (threads > 1 ? "-" + i : ""));
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  private void stop() {
    stopping = true;
    for (Thread t : workers) {
      t.interrupt();
    }
    boolean interrupted = false;
    for (Thread t : workers) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void work() {
    try {
      while (!stopping) {
        Batch b = takeFree();
        synchronized (readLock) {
          if (stopping || failed) {
            return;
          }
          b.seq = nextSeq++;
          b.error = null;
          try {
            read(b);
          } catch (RuntimeException e) {
            b.error = e;
            failed = true;
          }
        }
        if (b.error == null && !b.deferred) {
          try {
            transform(b, b.data);
          } catch (RuntimeException e) {
            b.error = e;
          }
        }
        synchronized (ready) {
          ready[(int) (b.seq % ready.length)] = b;
          ready.notifyAll();
        }
        if (b.error != null) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // stop(): the layer is closing or seeking.
    }
  }

  /** The sequential part, under the read lock: which values each record has, and its draws. */
  private void read(Batch b) {
    boolean allKept = true;
    for (int i = 0; i < batchSize; i++) {
      long key = cursor.recordKey();
      if (cache != null && cache.has(key)) {
        b.src[i] = cache.values(key);
        b.srcOffset[i] = cache.offset(key);
        b.label[i] = cache.label(key);
      } else {
        long position = cursor.position();
        ByteBuffer bytes = cursor.peekBytes();
        if (!raw.decode(bytes)) {
          // Groups or a malformed record: protobuf reads it, or says (through the cursor) why not.
          raw.set(cursor.peek());
        }
        if (raw.encoded) {
          // PNG/JPEG: decoded once; the cache keeps the pixels, so later passes do not decode again.
          raw.set(transformer.decoded(cursor.peek()));
        }
        transformer.check(raw, () -> where(position, cursor.key()));
        key = cursor.recordKey();
        if (cache == null && key >= 0) {
          cache = new DatumCache(dim, raw.bytes(), cacheBudget);
        }
        if (cache != null && cache.put(key, raw)) {
          b.src[i] = cache.values(key);
          b.srcOffset[i] = cache.offset(key);
        } else {
          stage(b, i);
          allKept = false;
        }
        b.label[i] = raw.label;
      }
      cursor.skip();
      transformer.draw(height, width, b.draws, i);
    }
    b.end = cursor.position();
    b.deferred = allKept && !(b.src[0] instanceof byte[]) && transformer.plain();
  }

  /** Copies the record {@link #raw} holds into the batch's own staging area, as record {@code i}. */
  private void stage(Batch b, int i) {
    if (raw.bytes()) {
      if (b.stagedBytes == null) {
        b.stagedBytes = new byte[batchSize * dim];
      }
      System.arraycopy(raw.data, 0, b.stagedBytes, i * dim, dim);
      b.src[i] = b.stagedBytes;
    } else {
      if (b.stagedFloats == null) {
        b.stagedFloats = new float[batchSize * dim];
      }
      System.arraycopy(raw.floats, 0, b.stagedFloats, i * dim, dim);
      b.src[i] = b.stagedFloats;
    }
    b.srcOffset[i] = i * dim;
  }

  /** The parallel part: every record's values, transformed into {@code out}. */
  private void transform(Batch b, float[] out) {
    if (b.deferred && identity) {
      // Kept records in key order lie side by side in the cache: one copy per run of them.
      for (int i = 0; i < batchSize; ) {
        int j = i + 1;
        while (j < batchSize && b.src[j] == b.src[i] && b.srcOffset[j] == b.srcOffset[i] + (j - i) * dim) {
          j++;
        }
        System.arraycopy((float[]) b.src[i], b.srcOffset[i], out, i * item, (j - i) * dim);
        for (int k = i; k < j; k++) {
          b.src[k] = null;
        }
        i = j;
      }
      return;
    }
    for (int i = 0; i < batchSize; i++) {
      Object src = b.src[i];
      float[] floats = src instanceof float[] f ? f : null;
      byte[] bytes = src instanceof byte[] x ? x : null;
      transformer.transform(floats, bytes, b.srcOffset[i], channels, height, width, b.draws, i, out,
          i * item);
      b.src[i] = null;
    }
  }

  private String where(long position, String key) {
    return "data layer '" + name + "', source '" + cursor.source() + "', record " + position
        + (key.isEmpty() ? "" : " (key '" + key + "')");
  }

  /** Stops the threads and closes the cursor. */
  @Override
  public void close() {
    stop();
    synchronized (readLock) {
      if (cache != null) {
        cache.release();
        cache = null;
      }
      cursor.close();
    }
  }
}
