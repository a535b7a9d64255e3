package crema.ingest;

import com.google.protobuf.CodedOutputStream;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * One CSV line straight to the bytes of its Datum, on a parse thread: the fields are found in the
 * line's bytes, counts (a run of up to 9 digits, most CSV features) are read in place, and the
 * Datum is written field by field as protobuf writes it, with no String per field, no Datum
 * builder and no copy of the features. The outcome is byte for byte what {@link RowParser#parse}
 * then {@code Datum.toByteArray()} give ({@code RowDatumsTest}); a line it does not take plainly
 * (quotes, non-ASCII, a wrong column count, a pixel that is no pixel: anything that may be
 * refused or needs the general reader) makes it answer null, and the caller parses that line the
 * general way, which names the reason exactly as before.
 */
final class RowDatums {
  /**
   * A line taken: its id, its label's name (null without a label column) and index, its Datum's
   * bytes, its features. From {@link #parse}, {@code features} is this reader's own array, valid
   * until its next line (they are summed into the chunk's moments at once; an array per row was a
   * fifth of an upload's allocation).
   */
  record Row(String id, String label, int labelIndex, byte[] datum, float[] features) {}

  /**
   * {@code (float) Math.log(v + 1.0)} for the counts 0..1023, computed once: the log was the
   * largest single cost of a log1p row (93 of them in an Otto row), and the table holds exactly the
   * values it gives (ln 1 = 0).
   */
  private static final float[] LOG1P_COUNTS = new float[1024];

  static {
    for (int v = 0; v < LOG1P_COUNTS.length; v++) {
      LOG1P_COUNTS[v] = v == 0 ? 0f : (float) Math.log(v + 1.0);
    }
  }

  private final CsvSchema schema;
  private final RowParser.LabelIndex labels;
  private final boolean log1p;
  private final int maxLineBytes;
  /** C, H, W of an image dataset ({@code shape=}), or null: features as {@code float_data}. */
  private final int[] shape;
  private final String[] columnNames;
  /** The field starts of the line being read, reused: field k is line[starts[k], starts[k + 1] - 1). */
  private final int[] starts;
  /** The features of the line being read, reused (see {@link Row}). */
  private final float[] features;

  RowDatums(CsvSchema schema, RowParser.LabelIndex labels, boolean log1p, int maxLineBytes, int[] shape) {
    this.schema = schema;
    this.labels = labels;
    this.log1p = log1p;
    this.maxLineBytes = maxLineBytes;
    this.shape = shape;
    this.columnNames = schema.header().toArray(new String[0]);
    this.starts = new int[schema.columns() + 1];
    this.features = new float[schema.featureCount()];
  }

  /**
   * The line's Datum, or null when the line needs the general parser. Throws what the general
   * parser throws for a value it refuses (not a number, not finite, an unknown label), in the same
   * order (label, then features left to right), so the reason is the same.
   */
  Row parse(byte[] line, long lineNumber) throws RowRejectedException {
    int end = line.length;
    if (end > maxLineBytes) {
      return null;
    }
    if (end > 0 && line[end - 1] == '\r') {
      end--;
    }
    int columns = schema.columns();
    int k = 0;
    starts[0] = 0;
    boolean blank = true;
    for (int i = 0; i < end; i++) {
      byte b = line[i];
      if (b < 0 || b == '"') {
        return null;
      }
      if (b == ',') {
        if (++k >= columns) {
          return null;
        }
        starts[k] = i + 1;
      } else if (blank && b > ' ') {
        blank = false;
      }
    }
    if (k != columns - 1 || blank) {
      return null;
    }
    starts[columns] = end + 1;

    String label = null;
    int labelIndex = 0;
    if (schema.hasLabel()) {
      label = text(line, schema.labelColumn()).strip();
      labelIndex = labels.indexOf(label);
      if (labelIndex < 0) {
        return null;
      }
    }
    int n = schema.featureCount();
    float[] features = this.features;
    for (int i = 0; i < n; i++) {
      features[i] = feature(line, schema.featureColumn(i));
    }
    String id = schema.idColumn() >= 0 ? text(line, schema.idColumn()).strip() : Long.toString(lineNumber);
    byte[] datum = shape == null ? floats(features, label != null, labelIndex) : pixels(features, label != null,
        labelIndex);
    return datum == null ? null : new Row(id, label, labelIndex, datum, features);
  }

  private static String text(byte[] line, int from, int to) {
    return new String(line, from, to - from, StandardCharsets.US_ASCII);
  }

  private String text(byte[] line, int column) {
    return text(line, starts[column], starts[column + 1] - 1);
  }

  /** Field {@code c} as a feature: exactly {@code RowParser.feature(field, column, log1p)}. */
  private float feature(byte[] line, int c) throws RowRejectedException {
    int from = starts[c];
    int to = starts[c + 1] - 1;
    if (to > from && to - from <= 9) {
      int v = 0;
      for (int i = from; i < to && v >= 0; i++) {
        int d = line[i] - '0';
        v = d >= 0 && d <= 9 ? v * 10 + d : -1;
      }
      if (v >= 0) {
        // A count: exactly the double parseDouble gives; ln(1 + 0) is 0 without a log; the
        // small counts' logs (most of a count-valued CSV) come from a table of the same values.
        if (!log1p) {
          return (float) v;
        }
        return v < LOG1P_COUNTS.length ? LOG1P_COUNTS[v] : (float) Math.log(v + 1.0);
      }
    }
    return RowParser.feature(text(line, from, to), columnNames[c], log1p);
  }

  /**
   * Channels = features, height = width = 1, the label, the features as float_data (not packed, as
   * Caffe's): the bytes protobuf writes for that Datum (fields in number order, int32 as varints,
   * each float as tag 0x35 and four little-endian bytes), written here without an encoder object,
   * which cost more than the rest of the encoding.
   */
  private static byte[] floats(float[] features, boolean hasLabel, int label) {
    int size = 1 + varintSize(features.length) + 4 + (hasLabel ? 1 + varintSize(label) : 0) + features.length * 5;
    byte[] out = new byte[size];
    int p = 0;
    out[p++] = 1 << 3;
    p = varint(out, p, features.length);
    out[p++] = 2 << 3;
    out[p++] = 1;
    out[p++] = 3 << 3;
    out[p++] = 1;
    if (hasLabel) {
      out[p++] = 5 << 3;
      p = varint(out, p, label);
    }
    for (float f : features) {
      int bits = Float.floatToRawIntBits(f);
      out[p++] = (6 << 3) | 5;
      out[p++] = (byte) bits;
      out[p++] = (byte) (bits >>> 8);
      out[p++] = (byte) (bits >>> 16);
      out[p++] = (byte) (bits >>> 24);
    }
    return out;
  }

  /** A non-negative int's varint length (labels and sizes here are never negative). */
  private static int varintSize(int v) {
    return v < 0 ? 10 : CodedOutputStream.computeUInt32SizeNoTag(v);
  }

  private static int varint(byte[] out, int p, int v) {
    if (v < 0) {
      // As protobuf writes a negative int32: sign-extended to 10 bytes.
      long x = v;
      for (int i = 0; i < 9; i++) {
        out[p++] = (byte) ((x & 0x7F) | 0x80);
        x >>>= 7;
      }
      out[p++] = (byte) x;
      return p;
    }
    while ((v & ~0x7F) != 0) {
      out[p++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    return p;
  }

  /**
   * {@code crema convert --shape}'s image Datum: C, H, W, the pixels as uint8 {@code data}, the
   * label; null when a value is no pixel (the general path names it).
   */
  private byte[] pixels(float[] features, boolean hasLabel, int label) {
    byte[] px = new byte[features.length];
    for (int i = 0; i < px.length; i++) {
      float v = features[i];
      if (v < 0 || v > 255 || v != Math.rint(v)) {
        return null;
      }
      px[i] = (byte) (int) v;
    }
    int size = CodedOutputStream.computeInt32Size(1, shape[0]) + CodedOutputStream.computeInt32Size(2, shape[1])
        + CodedOutputStream.computeInt32Size(3, shape[2]) + CodedOutputStream.computeByteArraySize(4, px)
        + (hasLabel ? CodedOutputStream.computeInt32Size(5, label) : 0);
    byte[] out = new byte[size];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeInt32(1, shape[0]);
      o.writeInt32(2, shape[1]);
      o.writeInt32(3, shape[2]);
      o.writeByteArray(4, px);
      if (hasLabel) {
        o.writeInt32(5, label);
      }
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
