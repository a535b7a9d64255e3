package crema.trainer;

import crema.engine.io.ProtoFormatException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;
import java.util.Map;

/** {@code /v1/jobs}: submit, list, inspect and stop training jobs. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.trainer", notEquals = "false")
@Controller("/v1/jobs")
public class JobController {
  /** What the API shows of a job. */
  @Serdeable
  public record JobView(String id, String model, String state, int iteration, Map<String, Double> metrics,
      String message, @Nullable String resumeFrom) {
    static JobView of(Job j) {
      return new JobView(j.id(), j.spec().model(), j.state().name(), j.iteration(), j.metrics(), j.message(),
          j.spec().resumeFrom());
    }
  }

  private final Jobs jobs;

  public JobController(Jobs jobs) {
    this.jobs = jobs;
  }

  @Post
  public HttpResponse<?> submit(@Body JobSpec spec) {
    try {
      return HttpResponse.created(JobView.of(jobs.submit(spec)));
    } catch (IllegalArgumentException | ProtoFormatException e) {
      return HttpResponse.badRequest(Map.of("error", e.getMessage()));
    } catch (IllegalStateException e) {
      return HttpResponse.serverError(Map.of("error", e.getMessage()));
    }
  }

  @Get
  public List<JobView> list() {
    return jobs.all().stream().map(JobView::of).toList();
  }

  @Get("/{id}")
  public HttpResponse<?> get(@PathVariable String id) {
    return jobs.get(id).<HttpResponse<?>>map(j -> HttpResponse.ok(JobView.of(j)))
        .orElse(HttpResponse.notFound(Map.of("error", "no job " + id)));
  }

  /** {@code POST /v1/jobs/{id}:stop}: snapshot, then stop. */
  @Post("/{id}:stop")
  public HttpResponse<?> stop(@PathVariable String id) {
    return jobs.stop(id).<HttpResponse<?>>map(j -> HttpResponse.accepted().body(JobView.of(j))).orElse(HttpResponse.notFound(Map.of("error", "no job " + id)));
  }
}
