package crema.trainer;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * A training job: a model name, the solver and net prototxt texts, optionally a deploy net
 * (derived from the net when absent), the label names (the dataset's when absent) and a run to
 * continue ({@code resume_from}: that run's newest checkpoint is the starting point; without it a
 * job starts from nothing, whatever ran before under the same model name).
 */
@Serdeable
public record JobSpec(String model, String solver, String net, @Nullable String deploy, @Nullable List<String> labels,
    @Nullable @JsonProperty("resume_from") String resumeFrom) {
  public JobSpec(String model, String solver, String net, String deploy, List<String> labels) {
    this(model, solver, net, deploy, labels, null);
  }
}
