package crema.inference;

import io.micronaut.context.annotation.Requires;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;

/** Readiness of the inference service: at least one model is loaded and served. */
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
    if (served.isEmpty()) {
      details.put("error", "no model is loaded yet: no checkpoint on the topic has verified");
    }
    healthStatus = served.isEmpty() ? HealthStatus.DOWN : HealthStatus.UP;
    return details;
  }

  @Override
  protected String getName() {
    return "models";
  }
}
