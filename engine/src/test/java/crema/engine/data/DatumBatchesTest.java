package crema.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.google.protobuf.ByteString;
import crema.engine.DataException;
import crema.engine.Rng;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches from the raw decoder, the cache (whole, partial, none) and parallel threads equal the
 * batches a sequential read of Datum objects gives, pass after pass, and after a seek; the
 * position is the cursor's after the last batch handed out.
 */
class DatumBatchesTest {
  @TempDir
  Path dir;

  private static final int RECORDS = 37;
  private static final int BATCH = 8;

  private Path lmdb(boolean bytes) {
    Path db = dir.resolve(bytes ? "bytes" : "floats");
    Random r = new Random(5);
    try (LmdbWriter w = new LmdbWriter(db)) {
      for (int i = 0; i < RECORDS; i++) {
        Datum.Builder d = Datum.newBuilder().setChannels(2).setHeight(3).setWidth(4).setLabel(i % 9);
        if (bytes) {
          byte[] v = new byte[24];
          r.nextBytes(v);
          d.setData(ByteString.copyFrom(v));
        } else {
          for (int k = 0; k < 24; k++) {
            d.addFloatData(r.nextFloat() * 3);
          }
        }
        w.put(String.format("%08d", i), d.build().toByteArray());
      }
    }
    return db;
  }

  /**
   * Mode 2, crop and mirror: the threads transform. Mode 1, scale and mean: kept float_data records
   * are transformed by the taker. Mode 0, none: the taker copies runs of kept records.
   */
  private static TransformationParameter transform(int mode) {
    TransformationParameter.Builder p = TransformationParameter.newBuilder();
    if (mode >= 1) {
      p.setScale(0.5f).addMeanValue(0.25f).addMeanValue(1f);
    }
    return mode == 2 ? p.setCropSize(2).setMirror(true).build() : p.build();
  }

  /** What the Data layer read before: Datum objects, one after another, transformed in order. */
  private static List<float[]> expected(Path db, long from, int batches, int mode) {
    List<float[]> out = new ArrayList<>();
    try (LmdbCursor c = LmdbCursor.open(db.toString())) {
      c.seek(from);
      DatumTransformer t = new DatumTransformer(transform(mode), Phase.TRAIN, new Rng(3));
      Datum first = c.peek();
      t.check(first, () -> "first");
      int[] shape = t.itemShape(first);
      int item = shape[0] * shape[1] * shape[2];
      for (int b = 0; b < batches; b++) {
        float[] data = new float[BATCH * item + BATCH];
        for (int i = 0; i < BATCH; i++) {
          Datum d = c.next();
          t.check(d, () -> "record");
          t.transform(d, data, i * item);
          data[BATCH * item + i] = d.getLabel();
        }
        out.add(data);
      }
    }
    return out;
  }

  private static List<float[]> read(DatumBatches batches, int n, List<Long> positions) {
    int[] shape = batches.itemShape();
    int item = shape[0] * shape[1] * shape[2];
    List<float[]> out = new ArrayList<>();
    for (int b = 0; b < n; b++) {
      float[] data = new float[BATCH * item];
      float[] label = new float[BATCH];
      batches.next(data, label);
      float[] both = java.util.Arrays.copyOf(data, BATCH * item + BATCH);
      System.arraycopy(label, 0, both, BATCH * item, BATCH);
      out.add(both);
      positions.add(batches.position());
    }
    return out;
  }

  private static DatumBatches open(Path db, long cacheBytes, int threads, int mode) {
    return new DatumBatches(LmdbCursor.open(db.toString()),
        new DatumTransformer(transform(mode), Phase.TRAIN, new Rng(3)), BATCH, 2, "data",
        new java.util.concurrent.atomic.AtomicLong(cacheBytes), threads);
  }

  @Test
  void everyWayOfReadingGivesTheSequentialBatches() {
    for (boolean bytes : new boolean[] {false, true}) {
      Path db = lmdb(bytes);
      int n = 4 * RECORDS / BATCH + 1;
      // Everything kept, nothing kept, the first 10 records kept.
      long perRecord = 24L * (bytes ? 1 : 4) + 5;
      for (int mode = 0; mode < 3; mode++) {
        List<float[]> expected = expected(db, 0, n, mode);
        for (long cache : new long[] {1 << 20, 0, 10 * perRecord}) {
          for (int threads : new int[] {1, 3}) {
            List<Long> positions = new ArrayList<>();
            try (DatumBatches batches = open(db, cache, threads, mode)) {
              List<float[]> actual = read(batches, n, positions);
              for (int b = 0; b < n; b++) {
                assertArrayEquals(expected.get(b), actual.get(b), "bytes=" + bytes + " transform mode "
                    + mode + " cache=" + cache + " threads=" + threads + " batch " + b);
                assertEquals((long) (b + 1) * BATCH, positions.get(b));
              }
              assertEquals(Math.min(RECORDS, cache / perRecord), batches.cacheSize()[0], "records kept");
            }
          }
        }
      }
    }
  }

  @Test
  void theBudgetIsSharedByTheReadersOfAProcessAndGivenBackOnClose() {
    Path db = lmdb(false);
    long perRecord = 24L * 4 + 5;
    // A chunk (4,096 records' room) for the first reader, room for 10 more records.
    java.util.concurrent.atomic.AtomicLong budget = new java.util.concurrent.atomic.AtomicLong((4096 + 10) * perRecord);
    int n = RECORDS / BATCH + 1;
    DatumBatches a = new DatumBatches(LmdbCursor.open(db.toString()),
        new DatumTransformer(transform(0), Phase.TRAIN, new Rng(3)), BATCH, 2, "a", budget, 1);
    read(a, n, new ArrayList<>());
    assertEquals(RECORDS, a.cacheSize()[0]);
    try (DatumBatches b = new DatumBatches(LmdbCursor.open(db.toString()),
        new DatumTransformer(transform(0), Phase.TRAIN, new Rng(3)), BATCH, 2, "b", budget, 1)) {
      List<float[]> actual = read(b, n, new ArrayList<>());
      assertEquals(10, b.cacheSize()[0], "what the first reader left");
      List<float[]> expected = expected(db, 0, n, 0);
      for (int i = 0; i < n; i++) {
        assertArrayEquals(expected.get(i), actual.get(i), "batch " + i);
      }
    }
    a.close();
    assertEquals((4096 + 10) * perRecord, budget.get(), "all given back");
  }

  @Test
  void seekingStartsTheNextBatchAtThePositionWhateverWasReadAhead() {
    Path db = lmdb(false);
    try (DatumBatches batches = open(db, 1 << 20, 2, 2)) {
      read(batches, 3, new ArrayList<>());
      long position = 5 * RECORDS + 11;
      batches.seek(position);
      assertEquals(position, batches.position());
      List<Long> positions = new ArrayList<>();
      List<float[]> actual = read(batches, 6, positions);
      // The draws continue from the transformer's generator, so compare values without crop and
      // mirror: the same records in the same order, from the position on.
      List<float[]> fromThere = expected(db, position, 6, 2);
      for (int b = 0; b < 6; b++) {
        float[] e = fromThere.get(b);
        float[] a = actual.get(b);
        assertArrayEquals(java.util.Arrays.copyOfRange(e, e.length - BATCH, e.length),
            java.util.Arrays.copyOfRange(a, a.length - BATCH, a.length), "labels of batch " + b);
        assertEquals(position + (long) (b + 1) * BATCH, positions.get(b));
      }
    }
  }

  @Test
  void aBadRecordIsNamedWhenItsBatchIsTaken() {
    Path db = dir.resolve("bad");
    try (LmdbWriter w = new LmdbWriter(db)) {
      for (int i = 0; i < 20; i++) {
        Datum.Builder d = Datum.newBuilder().setChannels(1).setHeight(1).setWidth(3);
        for (int k = 0; k < (i == 13 ? 4 : 3); k++) {
          d.addFloatData(k);
        }
        w.put(String.format("%08d", i), d.build().toByteArray());
      }
    }
    try (DatumBatches batches = new DatumBatches(LmdbCursor.open(db.toString()),
        new DatumTransformer(TransformationParameter.getDefaultInstance(), Phase.TRAIN), 4, 3, "data")) {
      float[] data = new float[12];
      for (int b = 0; b < 3; b++) {
        batches.next(data, null);
      }
      DataException e = assertThrows(DataException.class, () -> batches.next(data, null));
      assertTrue(e.getMessage().contains("record 13 (key '00000013')") && e.getMessage().contains("4 float_data"),
          e.getMessage());
    }
  }
}
