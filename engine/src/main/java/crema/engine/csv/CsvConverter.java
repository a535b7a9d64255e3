package crema.engine.csv;

import caffe.Caffe.Datum;
import com.google.protobuf.ByteString;
import crema.engine.data.LmdbWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * {@code crema convert}: a CSV with a header into an LMDB of Datum records as Caffe reads them
 * (key {@code %08d}, float_data features, the label's index), optionally split into train and test
 * LMDBs stratified by label. Bad rows are reported one by one and skipped; good rows are written.
 */
public final class CsvConverter {
  /**
   * What convert is asked to do; see {@code crema convert --help}. {@code shape} (C, H, W), when
   * given, makes each row an image Datum: channels, height and width set and the features stored
   * as uint8 {@code data}, each an integer pixel value 0 to 255.
   */
  public record Options(String labelColumn, String idColumn, boolean log1p, Path labelsFile,
      double testFraction, long seed, int maxLineBytes, int[] shape) {
    public Options {
      if (testFraction < 0 || testFraction >= 1) {
        throw new IllegalArgumentException("--test-fraction must be in [0, 1), got " + testFraction);
      }
      if (shape != null && (shape.length != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0)) {
        throw new IllegalArgumentException("--shape takes C,H,W: three positive sizes");
      }
      if (shape != null && log1p) {
        throw new IllegalArgumentException("--shape stores pixel values as they are; it does not take --log1p");
      }
    }

    public Options(String labelColumn, String idColumn, boolean log1p, Path labelsFile,
        double testFraction, long seed, int maxLineBytes) {
      this(labelColumn, idColumn, log1p, labelsFile, testFraction, seed, maxLineBytes, null);
    }
  }

  /** Counts per output and the label names used. */
  public record Result(long accepted, long rejected, long train, long test, Labels labels,
      CsvSchema schema) {}

  private CsvConverter() {}

  public static Result convert(Path csv, Path lmdb, Path testLmdb, Options o,
      Consumer<Rejection> onReject, LongConsumer onBytes) throws IOException {
    String source = csv.toString();
    CsvSchema schema;
    Map<String, Integer> classCounts = new HashMap<>();
    Set<String> seen = new LinkedHashSet<>();
    // Pass 1: the header, the label names (when not given) and the class counts for the split.
    try (CsvLines lines = new CsvLines(Files.newInputStream(csv), o.maxLineBytes())) {
      schema = header(lines, source, o);
      byte[] line;
      while ((line = lines.next()) != null) {
        if (!schema.hasLabel()) {
          continue;
        }
        try {
          List<String> f = RowParser.fields(line, o.maxLineBytes());
          if (f.size() == schema.columns()) {
            String label = f.get(schema.labelColumn()).strip();
            seen.add(label);
            classCounts.merge(label, 1, Integer::sum);
          }
        } catch (RowRejectedException e) {
          // Reported in pass 2.
        }
      }
    }
    Labels labels = null;
    if (schema.hasLabel()) {
      labels = o.labelsFile() != null ? Labels.read(o.labelsFile()) : Labels.sorted(seen);
    }
    Map<String, boolean[]> toTest = split(classCounts, o.testFraction(), o.seed());
    if (o.testFraction() > 0 && testLmdb == null) {
      throw new IllegalArgumentException("--test-fraction needs --test-output");
    }
    if (o.shape() != null && o.shape()[0] * o.shape()[1] * o.shape()[2] != schema.featureCount()) {
      throw new IllegalArgumentException(source + ":1: --shape " + o.shape()[0] + "," + o.shape()[1] + ","
          + o.shape()[2] + " needs " + o.shape()[0] * o.shape()[1] * o.shape()[2] + " feature columns, the header has "
          + schema.featureCount());
    }
    RowParser parser = new RowParser(schema, labels, o.log1p(), o.maxLineBytes());
    long accepted = 0;
    long rejected = 0;
    long train = 0;
    long test = 0;
    Map<String, Integer> occurrence = new HashMap<>();
    try (CsvLines lines = new CsvLines(Files.newInputStream(csv), o.maxLineBytes());
        LmdbWriter trainDb = new LmdbWriter(lmdb);
        LmdbWriter testDb = testLmdb == null ? null : new LmdbWriter(testLmdb)) {
      lines.next();
      byte[] line;
      while ((line = lines.next()) != null) {
        if (lines.lineNumber() % 1024 == 0) {
          onBytes.accept(lines.bytesRead());
        }
        CsvRow row;
        try {
          row = parser.parse(line, lines.lineNumber());
          if (o.shape() != null) {
            row = new CsvRow(row.line(), row.id(), row.label(), image(row.datum(), o.shape(), schema));
          }
        } catch (RowRejectedException e) {
          rejected++;
          onReject.accept(new Rejection(source, lines.lineNumber(), printable(line), e.getMessage()));
          continue;
        }
        accepted++;
        boolean isTest = false;
        if (row.label() != null && o.testFraction() > 0) {
          int k = occurrence.merge(row.label(), 1, Integer::sum) - 1;
          boolean[] marks = toTest.get(row.label());
          isTest = marks != null && k < marks.length && marks[k];
        }
        if (isTest) {
          testDb.put(String.format("%08d", test++), row.datum().toByteArray());
        } else {
          trainDb.put(String.format("%08d", train++), row.datum().toByteArray());
        }
      }
      onBytes.accept(lines.bytesRead());
    }
    if (labels != null) {
      labels.write(lmdb.resolve("labels.txt"));
      if (testLmdb != null) {
        labels.write(testLmdb.resolve("labels.txt"));
      }
    }
    return new Result(accepted, rejected, train, test, labels, schema);
  }

  /** A row's features as an image Datum: uint8 data of shape C×H×W, in the row's order. */
  public static Datum image(Datum features, int[] shape, CsvSchema schema) throws RowRejectedException {
    byte[] pixels = new byte[features.getFloatDataCount()];
    for (int i = 0; i < pixels.length; i++) {
      float v = features.getFloatData(i);
      if (v < 0 || v > 255 || v != Math.rint(v)) {
        throw new RowRejectedException("not_a_pixel", "column '" + schema.featureNames().get(i) + "': " + v
            + " is not a pixel value (an integer 0 to 255), which --shape stores");
      }
      pixels[i] = (byte) (int) v;
    }
    return features.toBuilder().clearFloatData().setChannels(shape[0]).setHeight(shape[1]).setWidth(shape[2])
        .setData(ByteString.copyFrom(pixels)).build();
  }

  private static CsvSchema header(CsvLines lines, String source, Options o) throws IOException {
    byte[] first = lines.next();
    if (first == null) {
      throw new IllegalArgumentException(source + ": the file is empty; it needs a header line");
    }
    try {
      return CsvSchema.of(RowParser.fields(first, o.maxLineBytes()), o.idColumn(), o.labelColumn());
    } catch (RowRejectedException | IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ":1: header: " + e.getMessage(), e);
    }
  }

  /**
   * For each class with n rows, marks round(fraction · n) of its occurrences (chosen with the
   * seed) for the test set: a stratified split, reproducible for a seed.
   */
  static Map<String, boolean[]> split(Map<String, Integer> counts, double fraction, long seed) {
    Map<String, boolean[]> marks = new HashMap<>();
    if (fraction <= 0) {
      return marks;
    }
    List<String> classes = new ArrayList<>(counts.keySet());
    Collections.sort(classes);
    Random r = new Random(seed);
    for (String c : classes) {
      int n = counts.get(c);
      int k = (int) Math.round(fraction * n);
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        order.add(i);
      }
      Collections.shuffle(order, r);
      boolean[] m = new boolean[n];
      for (int i = 0; i < k; i++) {
        m[order.get(i)] = true;
      }
      marks.put(c, m);
    }
    return marks;
  }

  /** The line as text for a report: invalid bytes replaced, long lines cut. */
  public static String printable(byte[] line) {
    String s = new String(line, StandardCharsets.UTF_8);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

}
