package crema.engine.csv;

import caffe.Caffe.Datum;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;
import java.util.function.Supplier;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Turns one CSV line (raw bytes) into the Datum Caffe reads: channels = features, height = width
 * = 1, {@code float_data} = the features (optionally ln(1 + x), computed in double and rounded once
 * to float), {@code label} = the label's index. Every reason a line can be refused — invalid UTF-8,
 * empty or over-long, wrong column count, a non-number, NaN/Inf, an unknown label — is a
 * {@link RowRejectedException} naming the column.
 */
public final class RowParser {
  /** Lines longer than this many bytes are refused by default. */
  public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

  private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setTrim(false).get();

  /** Maps a label name to its index, or −1 when the name is unknown. */
  @FunctionalInterface
  public interface LabelIndex {
    int indexOf(String label);
  }

  private final CsvSchema schema;
  private final LabelIndex labels;
  private final Supplier<String> knownLabels;
  private final boolean log1p;
  private final int maxLineBytes;

  /** {@code labels} may be null when the schema has no label column. */
  public RowParser(CsvSchema schema, Labels labels, boolean log1p, int maxLineBytes) {
    this(schema, labels == null ? null : labels::indexOf,
        () -> labels == null ? "" : abbreviate(labels.names()), log1p, maxLineBytes);
  }

  /** With a label index that may grow as rows arrive (streaming ingest). */
  public RowParser(CsvSchema schema, LabelIndex labels, Supplier<String> knownLabels,
      boolean log1p, int maxLineBytes) {
    if (schema.hasLabel() && labels == null) {
      throw new IllegalArgumentException("a label column needs the label names");
    }
    this.schema = schema;
    this.labels = labels;
    this.knownLabels = knownLabels;
    this.log1p = log1p;
    this.maxLineBytes = maxLineBytes;
  }

  public CsvSchema schema() {
    return schema;
  }

  /** Decodes a line strictly as UTF-8 and splits it into fields. */
  public static List<String> fields(byte[] line, int maxLineBytes) throws RowRejectedException {
    if (line.length > maxLineBytes) {
      throw new RowRejectedException("too_long", "line is longer than the limit of " + maxLineBytes + " bytes");
    }
    String text;
    if (ascii(line)) {
      // ASCII is valid UTF-8 and decodes to itself: no decoder needed (a new one per line cost
      // more than the rest of the parse of a typical numeric row).
      text = new String(line, StandardCharsets.US_ASCII);
    } else {
      try {
        text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line)).toString();
      } catch (CharacterCodingException e) {
        throw new RowRejectedException("invalid_utf8", "invalid UTF-8");
      }
    }
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isBlank()) {
      throw new RowRejectedException("empty", "empty line");
    }
    if (text.indexOf('"') < 0) {
      // Without quotes, RFC 4180 fields are exactly the text between commas.
      return split(text);
    }
    try (CSVParser p = CSVParser.parse(new StringReader(text), FORMAT)) {
      List<CSVRecord> records = p.getRecords();
      if (records.size() != 1) {
        throw new RowRejectedException("multiple_records", "line holds " + records.size() + " CSV records");
      }
      List<String> out = new ArrayList<>(records.get(0).size());
      records.get(0).forEach(out::add);
      return out;
    } catch (IOException | IllegalStateException | UncheckedIOException e) {
      throw new RowRejectedException("malformed", "malformed CSV: " + e.getMessage());
    }
  }

  private static boolean ascii(byte[] line) {
    for (byte b : line) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }

  /** The text between commas, as {@code text.split(",", -1)} gives it; see {@link Fields}. */
  private static List<String> split(String text) {
    int n = 1;
    for (int i = text.indexOf(','); i >= 0; i = text.indexOf(',', i + 1)) {
      n++;
    }
    int[] starts = new int[n + 1];
    for (int k = 1; k < n; k++) {
      starts[k] = text.indexOf(',', starts[k - 1]) + 1;
    }
    starts[n] = text.length() + 1;
    return new Fields(text, starts);
  }

  /**
   * An unquoted line's fields as offsets into its text: a field becomes a String only when asked
   * for, and a feature that is a run of digits is read from the text in place. (A substring per
   * field was the largest cost of parsing a numeric row.)
   */
  private static final class Fields extends AbstractList<String> implements RandomAccess {
    private final String text;
    /** Field k is text[starts[k], starts[k + 1] - 1). */
    private final int[] starts;

    Fields(String text, int[] starts) {
      this.text = text;
      this.starts = starts;
    }

    @Override
    public String get(int k) {
      return text.substring(starts[k], starts[k + 1] - 1);
    }

    @Override
    public int size() {
      return starts.length - 1;
    }

    /** Field k as a feature: exactly {@code feature(get(k), column, log1p)}. */
    float feature(int k, String column, boolean log1p) throws RowRejectedException {
      int from = starts[k];
      int to = starts[k + 1] - 1;
      if (to > from && to - from <= 9) {
        int n = 0;
        for (int i = from; i < to && n >= 0; i++) {
          char ch = text.charAt(i);
          n = ch >= '0' && ch <= '9' ? n * 10 + (ch - '0') : -1;
        }
        if (n >= 0) {
          // A count: exactly the double parseDouble gives, and no check can fail on it.
          return log1p ? (n == 0 ? 0f : (float) Math.log(n + 1.0)) : (float) n;
        }
      }
      return RowParser.feature(get(k), column, log1p);
    }
  }

  /** Parses one data line (without its newline). */
  public CsvRow parse(byte[] line, long lineNumber) throws RowRejectedException {
    List<String> f = fields(line, maxLineBytes);
    if (f.size() != schema.columns()) {
      throw new RowRejectedException("column_count", "expected " + schema.columns() + " columns, found " + f.size());
    }
    Datum.Builder d = Datum.newBuilder().setChannels(schema.featureCount()).setHeight(1).setWidth(1);
    String label = null;
    if (schema.hasLabel()) {
      label = f.get(schema.labelColumn()).strip();
      int index = labels.indexOf(label);
      if (index < 0) {
        throw new RowRejectedException("unknown_label", "unknown label '" + label + "' in column '"
            + schema.header().get(schema.labelColumn()) + "' (known: " + knownLabels.get() + ")");
      }
      d.setLabel(index);
    }
    for (int i = 0; i < schema.featureCount(); i++) {
      int c = schema.featureColumn(i);
      d.addFloatData(f instanceof Fields fields ? fields.feature(c, schema.header().get(c), log1p)
          : feature(f.get(c), schema.header().get(c), log1p));
    }
    String id = schema.idColumn() >= 0 ? f.get(schema.idColumn()).strip() : Long.toString(lineNumber);
    return new CsvRow(lineNumber, id, label, d.build());
  }

  /** One feature value, ln(1 + x) with {@code log1p}; refuses what is not a finite number. */
  public static float feature(String raw, String column, boolean log1p) throws RowRejectedException {
    String s = raw.strip();
    double v;
    int digits = s.length();
    if (digits > 0 && digits <= 9) {
      // Counts (most CSV features) are short runs of digits: exactly the double parseDouble gives.
      int n = 0;
      for (int i = 0; i < digits && n >= 0; i++) {
        char ch = s.charAt(i);
        n = ch >= '0' && ch <= '9' ? n * 10 + (ch - '0') : -1;
      }
      if (n >= 0) {
        return feature(n, s, column, log1p);
      }
    }
    try {
      v = Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new RowRejectedException("not_a_number", "column '" + column + "': '" + abbreviate(s) + "' is not a number");
    }
    return feature(v, s, column, log1p);
  }

  /** {@link #feature(String, String, boolean)} for a value already parsed (a JSON number). */
  public static float feature(double v, String column, boolean log1p) throws RowRejectedException {
    return feature(v, Double.toString(v), column, log1p);
  }

  private static float feature(double v, String s, String column, boolean log1p) throws RowRejectedException {
    if (!Double.isFinite(v)) {
      throw new RowRejectedException("not_finite", "column '" + column + "': " + s + " is not finite");
    }
    if (log1p) {
      if (v <= -1) {
        throw new RowRejectedException("log1p_undefined", "column '" + column + "': log1p of " + s + " is undefined");
      }
      // ln(1 + 0) is 0 exactly; zeros are most of a sparse row.
      return v == 0 ? 0f : (float) Math.log(v + 1.0);
    }
    float f = (float) v;
    if (!Float.isFinite(f)) {
      throw new RowRejectedException("overflow", "column '" + column + "': " + s + " overflows a float");
    }
    return f;
  }

  private static String abbreviate(Object o) {
    String s = String.valueOf(o);
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
