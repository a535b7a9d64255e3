package crema.ingest;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/datasets/{name}/rows}: a CSV body with a header, streamed (never buffered whole)
 * into the dataset's topics. The reply gives accepted and rejected counts and the first reasons.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@io.micronaut.context.annotation.Requires(property = "crema.services.ingest", notEquals = "false")
@Controller("/v1/datasets")
@ExecuteOn(TaskExecutors.BLOCKING)
public class DatasetController {
  private final DatasetIngest ingest;

  public DatasetController(DatasetIngest ingest) {
    this.ingest = ingest;
  }

  @Post(value = "/{name}/rows", consumes = {"text/csv", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  public HttpResponse<?> rows(@PathVariable String name, @Nullable @QueryValue String label,
      @Nullable @QueryValue String id, @Nullable @QueryValue Boolean log1p, @Nullable @QueryValue String split,
      @Nullable @QueryValue("test_fraction") Double testFraction, @Nullable @QueryValue Long seed,
      @Nullable @QueryValue String labels, @Nullable @QueryValue String source, @Body InputStream body) {
    try {
      List<String> labelList = labels == null || labels.isBlank() ? List.of()
          : Arrays.stream(labels.split(",")).map(String::strip).toList();
      var request = new DatasetIngest.Request(name, source == null ? "http:" + name : source, label, id,
          Boolean.TRUE.equals(log1p), split, testFraction == null ? 0 : testFraction, seed == null ? 0 : seed,
          labelList);
      return HttpResponse.ok(ingest.ingest(request, body));
    } catch (IllegalArgumentException e) {
      return HttpResponse.badRequest(Map.of("error", e.getMessage()));
    } catch (IllegalStateException e) {
      return HttpResponse.serverError(Map.of("error", e.getMessage()));
    } catch (java.io.IOException e) {
      return HttpResponse.badRequest(Map.of("error", "cannot read the body: " + e.getMessage()));
    }
  }
}
