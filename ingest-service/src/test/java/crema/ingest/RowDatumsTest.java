package crema.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import crema.engine.csv.CsvConverter;
import crema.engine.csv.CsvRow;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast line reader against the general one it stands in for: for every line it takes, the
 * Datum's bytes, id, label and features are exactly {@link RowParser#parse}'s (then
 * {@code toByteArray()}); a refused value is refused with the same reason; every line it leaves
 * (quotes, non-ASCII, a wrong column count) is one the general reader is given. And the schema's
 * statistics merged from chunks equal a two-pass computation over all the rows.
 */
class RowDatumsTest {
  static final List<String> LABELS = List.of("a", "b", "c");

  static RowParser general(CsvSchema schema, boolean log1p) {
    return new RowParser(schema, LABELS::indexOf, () -> String.valueOf(LABELS), log1p, 1 << 20);
  }

  /** The fast outcome of a line against the general one: same bytes, or the same refusal, or left to it. */
  /** Returns whether the fast reader took the line (gave a Datum or a refusal). */
  static boolean assertSame(CsvSchema schema, boolean log1p, int[] shape, String text, long lineNumber) {
    byte[] line = text.getBytes(StandardCharsets.UTF_8);
    RowDatums fast = new RowDatums(schema, LABELS::indexOf, log1p, 1 << 20, shape);
    RowParser general = general(schema, log1p);
    String expectedError = null;
    Datum expected = null;
    CsvRow row = null;
    try {
      row = general.parse(line, lineNumber);
      expected = shape == null ? row.datum() : CsvConverter.image(row.datum(), shape, schema);
    } catch (RowRejectedException e) {
      expectedError = e.kind() + ": " + e.getMessage();
    }
    RowDatums.Row got;
    try {
      got = fast.parse(line, lineNumber);
    } catch (RowRejectedException e) {
      assertEquals(expectedError, e.kind() + ": " + e.getMessage(), text);
      return true;
    }
    if (got == null) {
      // Left to the general reader: nothing to compare.
      return false;
    }
    assertEquals(null, expectedError, text);
    assertArrayEquals(expected.toByteArray(), got.datum(), text);
    assertEquals(row.id(), got.id(), text);
    assertEquals(row.label(), got.label(), text);
    assertEquals(row.datum().getLabel(), got.labelIndex(), text);
    float[] features = new float[row.datum().getFloatDataCount()];
    for (int i = 0; i < features.length; i++) {
      features[i] = row.datum().getFloatData(i);
    }
    assertArrayEquals(features, got.features(), text);
    return true;
  }

  @Test
  void countsAndLabelsAsTheGeneralReader() {
    CsvSchema schema = CsvSchema.of(List.of("id", "f1", "f2", "f3", "target"), "id", "target");
    Random r = new Random(7);
    for (int i = 0; i < 2000; i++) {
      StringBuilder line = new StringBuilder("id_" + i);
      for (int j = 0; j < 3; j++) {
        line.append(',').append(r.nextInt(4) == 0 ? r.nextInt(1_000_000_000) : r.nextInt(30));
      }
      line.append(',').append(LABELS.get(r.nextInt(3)));
      // Plain count rows are all the fast reader's.
      assertTrue(assertSame(schema, false, null, line.toString(), i + 2), line.toString());
      assertTrue(assertSame(schema, true, null, line.toString(), i + 2), line.toString());
    }
  }

  @Test
  void everyCountUnderAndPastTheLogTableAsTheGeneralReader() {
    // The fast reader takes log1p of small counts from a table: each must be the general reader's value.
    CsvSchema schema = CsvSchema.of(List.of("f1", "f2", "target"), null, "target");
    for (int v = 0; v < 1100; v++) {
      assertTrue(assertSame(schema, true, null, v + "," + (v * 31 % 1100) + ",a", 2), "count " + v);
    }
  }

  @Test
  void manyFeaturesAndLargeLabelIndicesAsProtobufWritesThem() throws Exception {
    // 200 channels and label 300 are two-byte varints.
    List<String> header = new java.util.ArrayList<>();
    StringBuilder line = new StringBuilder("300");
    header.add("label");
    for (int i = 0; i < 200; i++) {
      header.add("f" + i);
      line.append(',').append(i * 7919 % 1000);
    }
    CsvSchema schema = CsvSchema.of(header, null, "label");
    byte[] bytes = line.toString().getBytes(StandardCharsets.US_ASCII);
    RowDatums.Row row = new RowDatums(schema, Integer::parseInt, false, 1 << 20, null).parse(bytes, 2);
    CsvRow general = new RowParser(schema, Integer::parseInt, () -> "", false, 1 << 20).parse(bytes, 2);
    assertArrayEquals(general.datum().toByteArray(), row.datum());
    assertEquals(300, Datum.parseFrom(row.datum()).getLabel());
  }

  @Test
  void everyOtherValueAndEveryRefusalAsTheGeneralReader() {
    CsvSchema schema = CsvSchema.of(List.of("f1", "label", "f2"), null, "label");
    String[] values = {"0", "7", "0.5", "-3", "1e3", " 12 ", "12 ", "007", "1234567890", "12345678901", "x", "",
        "NaN", "Infinity", "-1", "-2", "3.4e39", "+5", "0x10", "1\r"};
    for (String a : values) {
      for (String b : values) {
        for (boolean log1p : new boolean[] {false, true}) {
          assertSame(schema, log1p, null, a + ",b," + b, 9);
          assertSame(schema, log1p, null, a + ",z," + b, 9);
        }
      }
    }
    for (String line : new String[] {"1,a,2\r", "1,a", "1,a,2,3", "\"1\",a,2", "1,\u00e9,2", "   ", ",,", "1, a ,2"}) {
      assertSame(schema, false, null, line, 3);
    }
    // No id column: the line number is the id.
    RowDatums fast = new RowDatums(schema, LABELS::indexOf, false, 1 << 20, null);
    try {
      assertEquals("41", fast.parse("1,c,2".getBytes(StandardCharsets.US_ASCII), 41).id());
      assertNull(fast.parse("1,c".getBytes(StandardCharsets.US_ASCII), 41));
    } catch (RowRejectedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void pixelRowsAsCremaConvertShape() {
    CsvSchema schema = CsvSchema.of(List.of("label", "p0", "p1", "p2", "p3"), null, "label");
    int[] shape = {1, 2, 2};
    Random r = new Random(3);
    int taken = 0;
    for (int i = 0; i < 500; i++) {
      StringBuilder line = new StringBuilder(LABELS.get(r.nextInt(3)));
      for (int j = 0; j < 4; j++) {
        line.append(',').append(r.nextInt(10) == 0 ? "256" : r.nextInt(10) == 0 ? "1.5" : r.nextInt(256));
      }
      if (assertSame(schema, false, shape, line.toString(), i + 2)) {
        taken++;
      }
    }
    assertTrue(taken > 200, taken + " of 500 pixel rows taken by the fast reader");
  }

  @Test
  void momentsMergedFromChunksEqualTwoPasses() {
    Random r = new Random(11);
    int n = 10_007;
    int features = 5;
    float[][] rows = new float[n][features];
    for (float[] row : rows) {
      for (int j = 0; j < features; j++) {
        // Large offsets with small spread: where a naive sum of squares loses every digit.
        row[j] = j == 0 ? 1e6f + r.nextInt(7) : j == 1 ? 0 : (float) (r.nextGaussian() * (j + 1) + 10 * j);
      }
    }
    FeatureMoments total = new FeatureMoments(features);
    for (int start = 0; start < n; ) {
      int size = 1 + r.nextInt(700);
      FeatureMoments chunk = new FeatureMoments(features);
      for (int i = start; i < Math.min(n, start + size); i++) {
        chunk.add(rows[i]);
      }
      total.merge(chunk);
      start += size;
    }
    assertEquals(n, total.count());
    for (int j = 0; j < features; j++) {
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (float[] row : rows) {
        sum += row[j];
        min = Math.min(min, row[j]);
        max = Math.max(max, row[j]);
      }
      double mean = sum / n;
      double ss = 0;
      for (float[] row : rows) {
        ss += (row[j] - mean) * (row[j] - mean);
      }
      double std = Math.sqrt(ss / (n - 1));
      assertEquals(mean, total.mean(j), 1e-12 * Math.max(1, Math.abs(mean)), "mean of " + j);
      assertEquals(std, total.std(j), 1e-9 * Math.max(1, std), "std of " + j);
      assertEquals(min, total.min(j), "min of " + j);
      assertEquals(max, total.max(j), "max of " + j);
    }
    FeatureMoments none = new FeatureMoments(2);
    assertEquals(0, none.mean(0));
    assertEquals(0, none.std(0));
    assertEquals(0, none.min(0));
  }
}
