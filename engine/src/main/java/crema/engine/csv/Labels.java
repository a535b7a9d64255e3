package crema.engine.csv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Label names and their indices 0..K−1: given (a labels file, one name per line) or learnt from
 * the data in sorted order (numerically when every name is an integer, so "10" follows "9").
 */
public final class Labels {
  private final List<String> names;
  private final Map<String, Integer> index = new HashMap<>();

  public Labels(List<String> names) {
    this.names = List.copyOf(names);
    for (int i = 0; i < names.size(); i++) {
      if (index.put(names.get(i), i) != null) {
        throw new IllegalArgumentException("label '" + names.get(i) + "' is listed twice");
      }
    }
  }

  /** The sorted set of the names seen. */
  public static Labels sorted(Collection<String> seen) {
    boolean numeric = seen.stream().allMatch(s -> s.matches("-?\\d{1,9}"));
    TreeSet<String> set = numeric
        ? new TreeSet<>((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)))
        : new TreeSet<>();
    set.addAll(seen);
    return new Labels(new ArrayList<>(set));
  }

  public static Labels read(Path file) {
    try {
      List<String> names = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        if (!line.isBlank()) {
          names.add(line.strip());
        }
      }
      if (names.isEmpty()) {
        throw new IllegalArgumentException(file + ": the labels file lists no labels");
      }
      return new Labels(names);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read the labels file: " + e.getMessage(), e);
    }
  }

  public void write(Path file) throws IOException {
    Files.write(file, names);
  }

  /** The index of {@code name}, or −1. */
  public int indexOf(String name) {
    return index.getOrDefault(name, -1);
  }

  public List<String> names() {
    return names;
  }

  public int size() {
    return names.size();
  }
}
