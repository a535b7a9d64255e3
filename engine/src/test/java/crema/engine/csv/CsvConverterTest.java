package crema.engine.csv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import crema.engine.OttoFixture;
import crema.engine.data.LmdbCursor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.Txn;

class CsvConverterTest {
  @TempDir
  Path dir;

  private static final CsvConverter.Options OTTO =
      new CsvConverter.Options("target", "id", true, null, 0, 0, RowParser.DEFAULT_MAX_LINE_BYTES);

  /** key → sha256 of the value, in LMDB key order. */
  static Map<String, String> digests(Path lmdb) throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (Env<ByteBuffer> env = Env.create().open(lmdb.toFile(), EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOLOCK)) {
      Dbi<ByteBuffer> dbi = env.openDbi((byte[]) null);
      try (Txn<ByteBuffer> txn = env.txnRead(); Cursor<ByteBuffer> c = dbi.openCursor(txn)) {
        boolean ok = c.first();
        while (ok) {
          byte[] k = new byte[c.key().remaining()];
          c.key().duplicate().get(k);
          byte[] v = new byte[c.val().remaining()];
          c.val().duplicate().get(v);
          out.put(new String(k, StandardCharsets.US_ASCII), HexFormat.of().formatHex(sha.digest(v)) + "," + v.length);
          ok = c.next();
        }
      }
    }
    return out;
  }

  @Test
  void trainCsvBecomesCaffesLmdbByteForByte() throws Exception {
    Path root = OttoFixture.copyTo(dir);
    Path out = dir.resolve("train_lmdb");
    List<Rejection> rejected = new ArrayList<>();
    var r = CsvConverter.convert(root.resolve("data/train.csv"), out, null, OTTO, rejected::add, b -> {});
    assertEquals(3000, r.accepted());
    assertTrue(rejected.isEmpty(), rejected.toString());
    Map<String, String> mine = digests(out);
    List<String> expected = Files.readAllLines(root.resolve("data/train_datum_sha256.csv"));
    assertEquals(expected.size() - 1, mine.size());
    int i = 0;
    for (Map.Entry<String, String> e : mine.entrySet()) {
      String[] f = expected.get(++i).split(",");
      assertEquals(f[0], e.getKey(), "key order");
      assertEquals(f[2] + "," + f[1], e.getValue(), "Datum bytes of key " + f[0]);
    }
    assertEquals(List.of("Class_1", "Class_2", "Class_3", "Class_4", "Class_5", "Class_6", "Class_7",
        "Class_8", "Class_9"), Files.readAllLines(out.resolve("labels.txt")));
  }

  private List<Rejection> convertText(String csv, CsvConverter.Options o) throws IOException {
    Path in = dir.resolve("in.csv");
    Files.write(in, csv.getBytes(StandardCharsets.ISO_8859_1));
    List<Rejection> rejected = new ArrayList<>();
    Path out = dir.resolve("out" + System.nanoTime());
    var r = CsvConverter.convert(in, out, null, o, rejected::add, b -> {});
    assertEquals(r.accepted() + r.rejected(), csv.split("\n", -1).length - 2, "accepted + rejected = rows");
    return rejected;
  }

  @Test
  void everyBadRowIsReportedWithItsLineAndGoodRowsAreKept() throws Exception {
    Path labels = dir.resolve("labels.txt");
    Files.writeString(labels, "a\nb\n");
    var o = new CsvConverter.Options("y", "id", false, labels, 0, 0, 64);
    String csv = "id,f1,f2,y\n"
        + "1,0.5,2,a\n"                      // 2 good
        + "2,0.5,b\n"                        // 3 wrong column count
        + "3,x,2,a\n"                        // 4 not a number
        + "4,NaN,2,b\n"                      // 5 NaN
        + "5,1,Infinity,b\n"                 // 6 Inf
        + "6,1,2,c\n"                        // 7 unknown label
        + "\n"                               // 8 empty
        + "8," + "1".repeat(80) + ",2,a\n"   // 9 over-long
        + "9,1,2,\u00ff\u00fe\n"             // 10 invalid UTF-8 (latin-1 bytes)
        + "10,3,4,b\n";                      // 11 good
    List<Rejection> r = convertText(csv, o);
    assertEquals(8, r.size(), r.toString());
    String[] reasons = {"expected 4 columns, found 3", "'x' is not a number", "NaN is not finite",
        "Infinity is not finite", "unknown label 'c'", "empty line", "longer than the limit", "invalid UTF-8"};
    for (int i = 0; i < reasons.length; i++) {
      assertEquals(i + 3, r.get(i).line(), "line of " + reasons[i]);
      assertTrue(r.get(i).reason().contains(reasons[i]), r.get(i).reason());
      assertTrue(r.get(i).toString().startsWith(dir.resolve("in.csv") + ":" + (i + 3) + ": "), r.get(i).toString());
    }
  }

  @Test
  void stratifiedSplitKeepsEachClassProportion() throws Exception {
    Path root = OttoFixture.copyTo(dir);
    var o = new CsvConverter.Options("target", "id", true, null, 0.2, 0, RowParser.DEFAULT_MAX_LINE_BYTES);
    var r = CsvConverter.convert(root.resolve("data/train.csv"), dir.resolve("tr"), dir.resolve("te"), o, x -> {}, b -> {});
    assertEquals(3000, r.train() + r.test());
    assertEquals(600, r.test(), 5);
    // Class 1 has 100 rows: 20 go to test.
    int[] counts = new int[9];
    try (var c = crema.engine.data.LmdbCursor.open(dir.resolve("te").toString())) {
      for (int i = 0; i < c.size(); i++) {
        counts[c.next().getLabel()]++;
      }
    }
    assertEquals(20, counts[0]);
    assertEquals(Math.round(0.2 * 759), counts[1]);
    var again = CsvConverter.convert(root.resolve("data/train.csv"), dir.resolve("tr2"), dir.resolve("te2"), o, x -> {}, b -> {});
    assertEquals(digests(dir.resolve("te")), digests(dir.resolve("te2")), "same seed, same split");
  }

  @Test
  void numericLabelsSortNumerically() {
    assertEquals(List.of("2", "9", "10"), Labels.sorted(List.of("10", "2", "9")).names());
    assertEquals(List.of("a", "b"), Labels.sorted(List.of("b", "a")).names());
  }

  @Test
  void headerProblemsAreNamed() throws Exception {
    Path in = dir.resolve("h.csv");
    Files.writeString(in, "id,f1,f1\n1,2,3\n");
    var e = assertThrows(IllegalArgumentException.class,
        () -> CsvConverter.convert(in, dir.resolve("x"), null, OTTO, r -> {}, b -> {}));
    assertTrue(e.getMessage().contains("h.csv:1: header") && e.getMessage().contains("twice"), e.getMessage());
    Files.writeString(in, "id,f1,f2\n1,2,3\n");
    e = assertThrows(IllegalArgumentException.class,
        () -> CsvConverter.convert(in, dir.resolve("y"), null, OTTO, r -> {}, b -> {}));
    assertTrue(e.getMessage().contains("--label-column 'target'"), e.getMessage());
  }

  @Test
  void parsedDatumIsWhatCaffeReads() throws Exception {
    CsvSchema s = CsvSchema.of(List.of("id", "a", "b", "t"), "id", "t");
    RowParser p = new RowParser(s, new Labels(List.of("x", "y")), true, 1000);
    Datum d = p.parse("7,0,1578,y".getBytes(StandardCharsets.UTF_8), 2).datum();
    assertEquals(2, d.getChannels());
    assertEquals(1, d.getLabel());
    assertEquals(0f, d.getFloatData(0));
    assertEquals((float) Math.log(1579.0), d.getFloatData(1), "rounded once from double");
    assertTrue(d.getData().isEmpty());
  }

  /** --shape 1,2,2: pixel rows become uint8 image Datums; a value that is no pixel is a rejected row. */
  @Test
  void shapeMakesPixelRowsImageDatums() throws Exception {
    Path in = Files.writeString(dir.resolve("pixels.csv"), "label,p0,p1,p2,p3\n"
        + "3,0,128,255,7\n"
        + "1,0,256,1,1\n"
        + "2,1,2.5,3,4\n");
    List<Rejection> rejected = new ArrayList<>();
    Path out = dir.resolve("pixels_lmdb");
    var o = new CsvConverter.Options("label", null, false, null, 0, 0, 1 << 16, new int[] {1, 2, 2});
    var r = CsvConverter.convert(in, out, null, o, rejected::add, b -> {});
    assertEquals(1, r.accepted());
    assertEquals(2, rejected.size());
    assertEquals(3, rejected.get(0).line());
    assertTrue(rejected.get(0).reason().contains("column 'p1': 256.0 is not a pixel value"), rejected.get(0).reason());
    assertEquals(4, rejected.get(1).line());
    try (LmdbCursor c = LmdbCursor.open(out.toString())) {
      Datum d = c.next();
      assertEquals(1, d.getChannels());
      assertEquals(2, d.getHeight());
      assertEquals(2, d.getWidth());
      assertEquals(0, d.getFloatDataCount());
      assertArrayEquals(new byte[] {0, (byte) 128, (byte) 255, 7}, d.getData().toByteArray());
    }
    var wrong = new CsvConverter.Options("label", null, false, null, 0, 0, 1 << 16, new int[] {1, 3, 3});
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> CsvConverter.convert(in, dir.resolve("x"), null, wrong, rejected::add, b -> {}))
        .getMessage().contains("needs 9 feature columns, the header has 4"));
  }
}
