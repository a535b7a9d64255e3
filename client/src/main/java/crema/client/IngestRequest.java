package crema.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Rows of a CSV (with a header) for one dataset, as {@code POST /v1/datasets/{name}/rows} takes
 * them. Immutable; build one with {@link #builder(String)}.
 */
public final class IngestRequest {
  private final String dataset;
  private final byte[] csv;
  private final Map<String, String> query;

  private IngestRequest(Builder b) {
    this.dataset = b.dataset;
    this.csv = b.csv;
    this.query = Map.copyOf(b.query);
  }

  /** A request for rows of {@code dataset}. */
  public static Builder builder(String dataset) {
    return new Builder(dataset);
  }

  public String dataset() {
    return dataset;
  }

  /** The query parameters (label, id, split, log1p, test_fraction, seed, labels, source). */
  public Map<String, String> query() {
    return query;
  }

  byte[] body() {
    return csv;
  }

  /** Builds an {@link IngestRequest}. */
  public static final class Builder {
    private final String dataset;
    private byte[] csv;
    private final Map<String, String> query = new LinkedHashMap<>();

    private Builder(String dataset) {
      this.dataset = Objects.requireNonNull(dataset, "dataset");
    }

    public Builder csv(String text) {
      this.csv = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return this;
    }

    public Builder csv(Path file) throws IOException {
      this.csv = Files.readAllBytes(file);
      return this;
    }

    /** The label column. */
    public Builder label(String column) {
      return put("label", column);
    }

    /** The id column. */
    public Builder id(String column) {
      return put("id", column);
    }

    /** The split ("train", "test"); without it, ingest splits by {@link #testFraction}. */
    public Builder split(String split) {
      return put("split", split);
    }

    public Builder log1p(boolean log1p) {
      return put("log1p", Boolean.toString(log1p));
    }

    public Builder testFraction(double fraction) {
      return put("test_fraction", Double.toString(fraction));
    }

    public Builder seed(long seed) {
      return put("seed", Long.toString(seed));
    }

    /** The label names in index order, when the dataset's are to be fixed up front. */
    public Builder labels(List<String> names) {
      return put("labels", String.join(",", names));
    }

    public Builder source(String source) {
      return put("source", source);
    }

    private Builder put(String k, String v) {
      if (v == null) {
        query.remove(k);
      } else {
        query.put(k, v);
      }
      return this;
    }

    public IngestRequest build() {
      if (csv == null) {
        throw new IllegalStateException("an ingest request needs its CSV");
      }
      return new IngestRequest(this);
    }
  }
}
