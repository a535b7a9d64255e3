package crema.visualizer;

import com.fasterxml.jackson.annotation.JsonInclude;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import crema.proto.FeatureStats;
import io.micronaut.serde.annotation.Serdeable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the dashboard knows of one dataset: its newest schema from crema.datasets and its dead letters. */
final class Dataset {
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Feature(String name, double min, double max, double mean, double std) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Rejection(String source, long lineNumber, String rawLine, String reason, long timeMs) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record View(String dataset, List<String> labels, Map<String, List<Long>> countsBySplit, List<Feature> features,
      long rejected, long deadLetters, List<Rejection> latestRejections, boolean log1p) {}

  /** Raw lines are cut to this many characters on the page: a dead letter may be a whole file's worth. */
  static final int RAW_LINE_SHOWN = 500;

  final String name;
  private final int kept;
  private DatasetSchema schema;
  private long deadLetters;
  private final Deque<Rejection> latest = new ArrayDeque<>();

  Dataset(String name, int kept) {
    this.name = name;
    this.kept = kept;
  }

  void onSchema(DatasetSchema s) {
    schema = s;
  }

  void onDeadLetter(DeadLetter d) {
    deadLetters++;
    String raw = d.getRawLine();
    latest.addFirst(new Rejection(d.getSource(), d.getLineNumber(),
        raw.length() > RAW_LINE_SHOWN ? raw.substring(0, RAW_LINE_SHOWN) + "…" : raw, d.getReason(), d.getTimeMs()));
    while (latest.size() > kept) {
      latest.removeLast();
    }
  }

  View view() {
    Map<String, List<Long>> counts = new LinkedHashMap<>();
    List<Feature> features = new ArrayList<>();
    List<String> labels = List.of();
    long rejected = 0;
    boolean log1p = false;
    if (schema != null) {
      schema.getCountsBySplitMap().forEach((split, c) -> counts.put(split, List.copyOf(c.getCountList())));
      for (FeatureStats f : schema.getFeaturesList()) {
        features.add(new Feature(f.getName(), f.getMin(), f.getMax(), f.getMean(), f.getStd()));
      }
      labels = List.copyOf(schema.getLabelNamesList());
      rejected = schema.getRejected();
      log1p = schema.getLog1P();
    }
    return new View(name, labels, counts, features, rejected, deadLetters, List.copyOf(latest), log1p);
  }
}
