package crema.client;

import java.util.Objects;

/**
 * Which checkpoints a subscription delivers: of one model (or every model), of one run (or every
 * run), from an iteration on; and whether it stops at the end the topic has now or follows it.
 * Immutable; build one with {@link #builder()}.
 *
 * <pre>{@code
 * CheckpointQuery q = CheckpointQuery.builder().model("otto").fromIteration(500).follow(true).build();
 * }</pre>
 */
public final class CheckpointQuery {
  private final String model;
  private final String run;
  private final int fromIteration;
  private final boolean follow;

  private CheckpointQuery(Builder b) {
    this.model = b.model;
    this.run = b.run;
    this.fromIteration = b.fromIteration;
    this.follow = b.follow;
  }

  /** Every checkpoint of every model, to the end the topic has now. */
  public static CheckpointQuery all() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this query's values. */
  public Builder newBuilder() {
    return new Builder().model(model).run(run).fromIteration(fromIteration).follow(follow);
  }

  /** The model, or null for every model. */
  public String model() {
    return model;
  }

  /** The run (job id), or null for every run. */
  public String run() {
    return run;
  }

  /** Checkpoints at lower iterations are skipped. */
  public int fromIteration() {
    return fromIteration;
  }

  /** Whether the subscription waits for new checkpoints once it has caught up. */
  public boolean follow() {
    return follow;
  }

  /** Whether a checkpoint of {@code model}, {@code run} at {@code iteration} is wanted. */
  public boolean matches(String model, String run, int iteration) {
    return (this.model == null || this.model.equals(model)) && (this.run == null || this.run.equals(run))
        && iteration >= fromIteration;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CheckpointQuery q && Objects.equals(model, q.model) && Objects.equals(run, q.run)
        && fromIteration == q.fromIteration && follow == q.follow;
  }

  @Override
  public int hashCode() {
    return Objects.hash(model, run, fromIteration, follow);
  }

  @Override
  public String toString() {
    return "CheckpointQuery{model=" + model + ", run=" + run + ", fromIteration=" + fromIteration + ", follow="
        + follow + "}";
  }

  /** Builds a {@link CheckpointQuery}. */
  public static final class Builder {
    private String model;
    private String run;
    private int fromIteration;
    private boolean follow;

    private Builder() {}

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder run(String run) {
      this.run = run;
      return this;
    }

    public Builder fromIteration(int fromIteration) {
      if (fromIteration < 0) {
        throw new IllegalArgumentException("fromIteration < 0: " + fromIteration);
      }
      this.fromIteration = fromIteration;
      return this;
    }

    public Builder follow(boolean follow) {
      this.follow = follow;
      return this;
    }

    public CheckpointQuery build() {
      return new CheckpointQuery(this);
    }
  }
}
