package crema.inference;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Counts every predict request by model and status (crema.inference.requests). A model that is not
 * served is counted as "unknown": names from request paths must not mint one time series each.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@ServerFilter("/v1/models/**")
public class PredictRequestsMeter {
  private static final String PREFIX = "/v1/models/";
  private static final String SUFFIX = ":predict";

  private final InferenceMetrics meters;
  private final Models models;

  public PredictRequestsMeter(InferenceMetrics meters, Models models) {
    this.meters = meters;
    this.models = models;
  }

  @ResponseFilter
  public void count(HttpRequest<?> request, MutableHttpResponse<?> response) {
    String path = request.getPath();
    if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) {
      return;
    }
    String model = path.substring(PREFIX.length(), path.length() - SUFFIX.length());
    meters.request(models.get(model).isPresent() ? model : "unknown", response.code());
  }
}
