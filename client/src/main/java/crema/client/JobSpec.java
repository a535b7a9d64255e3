package crema.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A training job as {@code POST /v1/jobs} takes it: the model's name, the solver and the net as
 * prototxt text, optionally the deploy net, the label names and a run to resume from. Immutable;
 * build one with {@link #builder()}.
 */
public final class JobSpec {
  private final String model;
  private final String solver;
  private final String net;
  private final String deploy;
  private final List<String> labels;
  private final String resumeFrom;

  private JobSpec(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    this.solver = Objects.requireNonNull(b.solver, "solver");
    this.net = Objects.requireNonNull(b.net, "net");
    this.deploy = b.deploy;
    this.labels = b.labels == null ? null : List.copyOf(b.labels);
    this.resumeFrom = b.resumeFrom;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String model() {
    return model;
  }

  public String solver() {
    return solver;
  }

  public String net() {
    return net;
  }

  String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("solver", solver);
    m.put("net", net);
    if (deploy != null) {
      m.put("deploy", deploy);
    }
    if (labels != null) {
      m.put("labels", labels);
    }
    if (resumeFrom != null) {
      m.put("resume_from", resumeFrom);
    }
    return Json.write(m);
  }

  /** Builds a {@link JobSpec}. */
  public static final class Builder {
    private String model;
    private String solver;
    private String net;
    private String deploy;
    private List<String> labels;
    private String resumeFrom;

    private Builder() {}

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    /** solver.prototxt text. */
    public Builder solver(String solver) {
      this.solver = solver;
      return this;
    }

    /** The train/test net's prototxt text. */
    public Builder net(String net) {
      this.net = net;
      return this;
    }

    public Builder deploy(String deploy) {
      this.deploy = deploy;
      return this;
    }

    public Builder labels(List<String> labels) {
      this.labels = labels;
      return this;
    }

    public Builder resumeFrom(String run) {
      this.resumeFrom = run;
      return this;
    }

    public JobSpec build() {
      return new JobSpec(this);
    }
  }
}
