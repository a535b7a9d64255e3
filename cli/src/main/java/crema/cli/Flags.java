package crema.cli;

import caffe.Caffe.Phase;
import java.util.ArrayList;
import java.util.List;

/** Parsing of Caffe's flag values. */
final class Flags {
  private Flags() {}

  /** "a,b,c" as a list, empty entries dropped (Caffe's -stage and -weights). */
  static List<String> commaList(String value) {
    List<String> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    for (String s : value.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  static Phase phase(String value) {
    if (value == null || value.isEmpty() || value.equals("TRAIN")) {
      return Phase.TRAIN;
    }
    if (value.equals("TEST")) {
      return Phase.TEST;
    }
    throw new IllegalArgumentException("Unknown phase " + value + " (use TRAIN or TEST)");
  }
}
