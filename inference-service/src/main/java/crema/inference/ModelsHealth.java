package crema.inference;

import io.micronaut.context.annotation.Requires;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Readiness of the inference service: every checkpoint on the topic at start has been loaded or
 * rejected (a load balancer sends a restarted replica nothing before its models are back), and at
 * least one model is served.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Singleton
@Readiness
public class ModelsHealth extends AbstractHealthIndicator<Map<String, Object>> {
  private final Models models;

  public ModelsHealth(Models models) {
    this.models = models;
  }

  @Override
  protected Map<String, Object> getHealthInformation() {
    Map<String, Object> details = new LinkedHashMap<>();
    Map<String, ServedModel> served = models.all();
    served.forEach((name, m) -> details.put(name, m.checkpoint.getIteration()));
    boolean caughtUp = models.caughtUp();
    if (!caughtUp) {
      details.put("error", "loading the models named on the checkpoints topic: not every one is loaded yet");
    } else if (served.isEmpty()) {
      details.put("error", "no model is loaded yet: no checkpoint on the topic has verified");
    }
    healthStatus = caughtUp && !served.isEmpty() ? HealthStatus.UP : HealthStatus.DOWN;
    return details;
  }

  @Override
  protected String getName() {
    return "models";
  }
}
