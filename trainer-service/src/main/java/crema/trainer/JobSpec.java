package crema.trainer;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * A training job: a model name, the solver and net prototxt texts, optionally a deploy net
 * (derived from the net when absent) and the label names to carry in checkpoints.
 */
@Serdeable
public record JobSpec(String model, String solver, String net, @Nullable String deploy, @Nullable List<String> labels) {}
