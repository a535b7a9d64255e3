package crema.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inference service's answer to {@code POST /v1/models/{name}:predict}: the model, the
 * checkpoint that answered (iteration, sha256), one {@link Row} per input row, and accuracy and loss
 * over the rows that had a label (NaN when none had).
 */
public record Predictions(String model, int iteration, String sha256, List<Row> rows, double accuracy, double loss) {
  public Predictions {
    rows = List.copyOf(rows);
  }

  /** One row: its id (null when the request had none), probabilities by label name, the top label. */
  public record Row(String id, Map<String, Double> probabilities, String label) {
    public Row {
      probabilities = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(probabilities));
    }
  }

  static Predictions of(Map<String, Object> m) {
    List<Row> rows = new ArrayList<>();
    for (Object o : (List<?>) m.get("predictions")) {
      Map<?, ?> p = (Map<?, ?>) o;
      Map<String, Double> probs = new LinkedHashMap<>();
      ((Map<?, ?>) p.get("probabilities")).forEach((k, v) -> probs.put(String.valueOf(k), CremaClient.number(v)));
      rows.add(new Row(p.get("id") == null ? null : p.get("id").toString(), probs, String.valueOf(p.get("label"))));
    }
    return new Predictions(String.valueOf(m.get("model")), (int) CremaClient.number(m.get("iteration")),
        String.valueOf(m.get("sha256")), rows, CremaClient.number(m.get("accuracy")), CremaClient.number(m.get("loss")));
  }
}
