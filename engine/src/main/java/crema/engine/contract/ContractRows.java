package crema.engine.contract;

import crema.engine.csv.CsvLines;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Raw rows read the way ingest read them, under a model contract: CSV columns are matched by
 * header name in any order, the id column is kept to be echoed back, the label column is optional
 * (when present, predictions can be scored), and {@code log1p} comes from the contract. Options
 * only override; a client sends the CSV it ingested with none.
 */
public final class ContractRows implements AutoCloseable {
  /**
   * Overrides of what the contract says; null fields keep the contract's value. {@code strict}
   * refuses a column the model does not know instead of ignoring it.
   */
  public record Options(String idColumn, String labelColumn, Boolean log1p, boolean strict) {
    public static final Options NONE = new Options(null, null, null, false);
  }

  /** One row: its line number (1 = the header), id (or null), raw values, label index (or −1). */
  public record Row(long line, String id, float[] values, int label) {}

  private final ModelContract contract;
  private final int classes;
  private final CsvLines lines;
  private final int maxLineBytes;
  private final List<String> header;
  private final int[] featureColumns;
  private final int idColumn;
  private final int labelColumn;
  private final boolean log1p;

  private ContractRows(ModelContract contract, int classes, CsvLines lines, int maxLineBytes, List<String> header,
      Options o) {
    this.contract = contract;
    this.classes = classes;
    this.lines = lines;
    this.maxLineBytes = maxLineBytes;
    this.header = header;
    this.log1p = o.log1p() != null ? o.log1p() : contract.log1p();
    Map<String, Integer> byName = new HashMap<>();
    for (int i = 0; i < header.size(); i++) {
      if (byName.put(header.get(i), i) != null) {
        throw new IllegalArgumentException("line 1: the header names column '" + header.get(i) + "' twice");
      }
    }
    this.idColumn = column(byName, o.idColumn(), contract.idColumn(), "id");
    this.labelColumn = column(byName, o.labelColumn(), contract.labelColumn(), "label");
    List<String> names = contract.featureNames();
    if (!names.isEmpty()) {
      featureColumns = new int[names.size()];
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        Integer c = byName.get(names.get(i));
        if (c == null) {
          missing.add(names.get(i));
        } else {
          featureColumns[i] = c;
        }
      }
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("line 1: the CSV has no column " + quote(missing) + "; the model takes the "
            + names.size() + " features " + abbreviate(names) + " by name, in any order");
      }
      if (o.strict()) {
        Set<String> known = new HashSet<>(names);
        for (int i = 0; i < header.size(); i++) {
          if (i != idColumn && i != labelColumn && !known.contains(header.get(i))) {
            throw new IllegalArgumentException("line 1: column '" + header.get(i) + "' is not a feature of the"
                + " model, nor its id or label column (strict mode)");
          }
        }
      }
    } else {
      List<Integer> cols = new ArrayList<>();
      for (int i = 0; i < header.size(); i++) {
        if (i != idColumn && i != labelColumn) {
          cols.add(i);
        }
      }
      if (cols.size() != contract.rawSize()) {
        throw new IllegalArgumentException("line 1: the CSV has " + cols.size() + " feature columns; the net's input"
            + " takes " + contract.rawSize() + " (no model contract names the features, so columns count by position"
            + (idColumn < 0 ? "; name the id column" : "") + (labelColumn < 0 ? "; name the label column" : "") + ")");
      }
      featureColumns = cols.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  private static int column(Map<String, Integer> byName, String override, String fromContract, String what) {
    if (override != null && !override.isEmpty()) {
      Integer c = byName.get(override);
      if (c == null) {
        throw new IllegalArgumentException("line 1: the " + what + " column '" + override + "' is not in the header");
      }
      return c;
    }
    // The contract's id and label columns are optional in a request: rows without them are numbered
    // and not scored.
    Integer c = fromContract == null ? null : byName.get(fromContract);
    return c == null ? -1 : c;
  }

  /**
   * Reads the header of a CSV body. Every problem with the header is an
   * {@link IllegalArgumentException} naming the column.
   */
  public static ContractRows csv(ModelContract contract, int classes, InputStream in, int maxLineBytes, Options o)
      throws IOException {
    CsvLines lines = new CsvLines(in, maxLineBytes);
    byte[] head = lines.next();
    if (head == null) {
      lines.close();
      throw new IllegalArgumentException("the body is empty; it needs a CSV header line");
    }
    try {
      return new ContractRows(contract, classes, lines, maxLineBytes, RowParser.fields(head, maxLineBytes), o);
    } catch (RowRejectedException e) {
      lines.close();
      throw new IllegalArgumentException("line 1: header: " + e.getMessage());
    } catch (RuntimeException e) {
      lines.close();
      throw e;
    }
  }

  public boolean hasId() {
    return idColumn >= 0;
  }

  public boolean hasLabel() {
    return labelColumn >= 0;
  }

  /** The next row, or null at the end; a bad row fails naming its line and column. */
  public Row next() throws IOException, RowRejectedException {
    byte[] line = lines.next();
    if (line == null) {
      return null;
    }
    long n = lines.lineNumber();
    try {
      List<String> f = RowParser.fields(line, maxLineBytes);
      if (f.size() != header.size()) {
        throw new RowRejectedException("column_count", "expected " + header.size() + " columns, found " + f.size());
      }
      float[] x = new float[featureColumns.length];
      for (int i = 0; i < x.length; i++) {
        x[i] = RowParser.feature(f.get(featureColumns[i]), header.get(featureColumns[i]), log1p);
      }
      int label = -1;
      if (labelColumn >= 0) {
        String value = f.get(labelColumn).strip();
        label = contract.labelIndex(value, classes);
        if (label < 0) {
          throw new RowRejectedException("unknown_label", "column '" + header.get(labelColumn) + "': unknown label '"
              + value + "' (the model's labels: " + abbreviate(contract.labelNames(classes)) + ")");
        }
      }
      return new Row(n, idColumn >= 0 ? f.get(idColumn).strip() : null, x, label);
    } catch (RowRejectedException e) {
      throw new RowRejectedException(e.kind(), "line " + n + ": " + e.getMessage());
    }
  }

  /**
   * A JSON instance: an array of raw values in the contract's feature order, or an object keyed by
   * feature name (which may also hold the id and label columns). {@code index} names it in errors.
   */
  public static Row instance(ModelContract contract, int classes, Object instance, int index, Options o)
      throws RowRejectedException {
    boolean log1p = o.log1p() != null ? o.log1p() : contract.log1p();
    String where = "instance " + index;
    if (instance instanceof List<?> values) {
      if (values.size() != contract.rawSize()) {
        throw new RowRejectedException("column_count", where + " has " + values.size() + " values; the model takes "
            + contract.rawSize() + (contract.featureNames().isEmpty() ? "" : " " + abbreviate(contract.featureNames())));
      }
      float[] x = new float[values.size()];
      for (int i = 0; i < x.length; i++) {
        String name = contract.featureNames().isEmpty() ? "#" + i : contract.featureNames().get(i);
        x[i] = value(values.get(i), name, log1p, where);
      }
      return new Row(index, null, x, -1);
    }
    if (instance instanceof Map<?, ?> object) {
      List<String> names = contract.featureNames();
      if (names.isEmpty()) {
        throw new RowRejectedException("column_count", where + " is an object, but the model's contract names no"
            + " features; send an array of " + contract.rawSize() + " values");
      }
      String idName = o.idColumn() != null ? o.idColumn() : contract.idColumn();
      String labelName = o.labelColumn() != null ? o.labelColumn() : contract.labelColumn();
      float[] x = new float[names.size()];
      for (int i = 0; i < x.length; i++) {
        if (!object.containsKey(names.get(i))) {
          throw new RowRejectedException("missing_feature", where + " has no feature '" + names.get(i) + "'");
        }
        x[i] = value(object.get(names.get(i)), names.get(i), log1p, where);
      }
      if (o.strict()) {
        for (Object key : object.keySet()) {
          if (!names.contains(key) && !key.equals(idName) && !key.equals(labelName)) {
            throw new RowRejectedException("unknown_column", where + ": '" + key + "' is not a feature of the model,"
                + " nor its id or label column (strict mode)");
          }
        }
      }
      Object id = idName == null ? null : object.get(idName);
      int label = -1;
      Object l = labelName == null ? null : object.get(labelName);
      if (l != null) {
        String value = l instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
            ? Long.toString(n.longValue()) : String.valueOf(l);
        label = contract.labelIndex(value, classes);
        if (label < 0) {
          throw new RowRejectedException("unknown_label", where + ": unknown label '" + value + "'");
        }
      }
      return new Row(index, id == null ? null : String.valueOf(id), x, label);
    }
    throw new RowRejectedException("malformed", where + " is neither an array of values nor an object of features");
  }

  private static float value(Object v, String name, boolean log1p, String where) throws RowRejectedException {
    try {
      if (v instanceof Number n) {
        return RowParser.feature(n.doubleValue(), name, log1p);
      }
      if (v instanceof String s) {
        return RowParser.feature(s, name, log1p);
      }
      throw new RowRejectedException("not_a_number", "column '" + name + "': " + v + " is not a number");
    } catch (RowRejectedException e) {
      throw new RowRejectedException(e.kind(), where + ": " + e.getMessage());
    }
  }

  private static String quote(List<String> names) {
    return names.size() == 1 ? "'" + names.get(0) + "'" : "s " + abbreviate(names);
  }

  private static String abbreviate(List<String> names) {
    return names.size() > 12 ? names.subList(0, 12) + " (" + names.size() + " in all)" : names.toString();
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
