package crema.engine.csv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which columns of a CSV are what: an optional id column, an optional label column, and every
 * other column a feature, in header order.
 */
public final class CsvSchema {
  private final List<String> header;
  private final int idColumn;
  private final int labelColumn;
  private final int[] featureColumns;

  private CsvSchema(List<String> header, int idColumn, int labelColumn) {
    this.header = List.copyOf(header);
    this.idColumn = idColumn;
    this.labelColumn = labelColumn;
    List<Integer> features = new ArrayList<>();
    for (int i = 0; i < header.size(); i++) {
      if (i != idColumn && i != labelColumn) {
        features.add(i);
      }
    }
    featureColumns = features.stream().mapToInt(Integer::intValue).toArray();
  }

  private CsvSchema(CsvSchema s, int[] featureColumns) {
    this.header = s.header;
    this.idColumn = s.idColumn;
    this.labelColumn = s.labelColumn;
    this.featureColumns = featureColumns;
  }

  /**
   * The same columns with the features in the order {@code names} gives (a dataset's order, when a
   * later file has its columns in another). A feature missing from either side fails, naming it.
   */
  public CsvSchema inOrder(List<String> names) {
    List<String> mine = featureNames();
    List<String> missing = names.stream().filter(n -> !mine.contains(n)).toList();
    List<String> extra = mine.stream().filter(n -> !names.contains(n)).toList();
    if (!missing.isEmpty() || !extra.isEmpty()) {
      throw new IllegalArgumentException("the feature columns differ from the dataset's "
          + (names.size() > 12 ? names.subList(0, 12) + "... (" + names.size() + ")" : names)
          + (missing.isEmpty() ? "" : ": missing " + missing) + (extra.isEmpty() ? "" : ", not in the dataset " + extra));
    }
    int[] columns = new int[names.size()];
    for (int i = 0; i < columns.length; i++) {
      columns[i] = header.indexOf(names.get(i));
    }
    return new CsvSchema(this, columns);
  }

  /**
   * Reads the header; {@code idName} and {@code labelName} may be null. A missing named column or a
   * repeated column name fails, naming it.
   */
  public static CsvSchema of(List<String> header, String idName, String labelName) {
    Set<String> seen = new HashSet<>();
    for (String h : header) {
      if (!seen.add(h)) {
        throw new IllegalArgumentException("header names column '" + h + "' twice");
      }
    }
    int id = find(header, idName, "--id-column");
    int label = find(header, labelName, "--label-column");
    if (id >= 0 && id == label) {
      throw new IllegalArgumentException("the id and label columns are both '" + idName + "'");
    }
    CsvSchema s = new CsvSchema(header, id, label);
    if (s.featureColumns.length == 0) {
      throw new IllegalArgumentException("the header has no feature columns: " + header);
    }
    return s;
  }

  private static int find(List<String> header, String name, String flag) {
    if (name == null) {
      return -1;
    }
    int i = header.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(flag + " '" + name + "' is not a column of the header "
          + (header.size() > 12 ? header.subList(0, 12) + "..." : header));
    }
    return i;
  }

  public List<String> header() {
    return header;
  }

  public int columns() {
    return header.size();
  }

  public int idColumn() {
    return idColumn;
  }

  public int labelColumn() {
    return labelColumn;
  }

  public boolean hasLabel() {
    return labelColumn >= 0;
  }

  public int featureCount() {
    return featureColumns.length;
  }

  public int featureColumn(int i) {
    return featureColumns[i];
  }

  public List<String> featureNames() {
    List<String> names = new ArrayList<>();
    for (int c : featureColumns) {
      names.add(header.get(c));
    }
    return Collections.unmodifiableList(names);
  }
}
