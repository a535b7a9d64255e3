package crema.inference;

import crema.engine.contract.ContractRows;
import crema.engine.contract.Scores;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * {@code /v1/models}: the served models, and predictions from them. A request sends rows as they
 * were ingested (the CSV itself, or JSON instances of raw features); the model's contract maps
 * columns by name, applies ingest's transforms and the TEST Data layer's transform_param, and names
 * labels as the dataset does. Query parameters only override the contract.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Controller("/v1/models")
public class ModelController {
  /** One row's answer: its id (when the request gave one), probabilities by label, the top label. */
  @Serdeable
  public record Prediction(@Nullable String id, Map<String, Float> probabilities, String label) {}

  /** Predictions, with the accuracy and loss over the rows that carried a label. */
  @Serdeable
  public record Predictions(String model, int iteration, String sha256, List<Prediction> predictions,
      @Nullable Long labelled, @Nullable Double accuracy, @Nullable Double loss) {}

  @Serdeable
  public record ModelView(String model, String run, int iteration, Map<String, Double> metrics, long loadedAtMs,
      String sha256, List<String> labels, List<String> features, @Nullable String idColumn,
      @Nullable String labelColumn, boolean log1p, @Nullable List<Integer> imageShape) {
    static ModelView of(ServedModel m) {
      var c = m.checkpoint;
      return new ModelView(c.getModel(), c.getRun(), c.getIteration(), c.getMetricsMap(), m.loadedAtMs,
          c.getSha256(), m.labels, m.contract.featureNames(), m.contract.idColumn(), m.contract.labelColumn(),
          m.contract.log1p(), m.imageShape == null ? null : java.util.Arrays.stream(m.imageShape).boxed().toList());
    }
  }

  private final Models models;

  public ModelController(Models models) {
    this.models = models;
  }

  @Get
  @ExecuteOn(TaskExecutors.BLOCKING)
  public List<ModelView> list() {
    return models.all().values().stream().map(ModelView::of).toList();
  }

  @Get("/{name}")
  @ExecuteOn(TaskExecutors.BLOCKING)
  public HttpResponse<?> get(@PathVariable String name) {
    return models.get(name).<HttpResponse<?>>map(m -> HttpResponse.ok(ModelView.of(m)))
        .orElse(unknown(name));
  }

  /**
   * A model that is not served: 404, or 503 with Retry-After while this replica is still loading
   * the checkpoints that were on the topic when it started (the model may be among them).
   */
  private HttpResponse<?> unknown(String name) {
    if (!models.caughtUp()) {
      return HttpResponse.status(io.micronaut.http.HttpStatus.SERVICE_UNAVAILABLE)
          .header("Retry-After", "1")
          .body(error("model '" + name + "' is not served yet: this replica is still loading the checkpoints"
              + " on the topic"));
    }
    return HttpResponse.notFound(error("no model '" + name + "' is served"));
  }

  private static Map<String, String> error(String message) {
    return Map.of("error", message);
  }

  private static ContractRows.Options options(String id, String label, Boolean log1p, Boolean strict) {
    return new ContractRows.Options(id, label, log1p, Boolean.TRUE.equals(strict));
  }

  /**
   * JSON {@code {"instances": [...]}}: each instance an array of raw features in the model's
   * feature order, or an object keyed by feature name (and, optionally, the id and label columns).
   */
  /*
   * On the event loop that read the request: a small request is answered on a lane of the model
   * right here (a batch-1 forward pass is microseconds), with no hand-off to another thread and
   * back; a larger one, or one that finds every lane busy, is queued for the model's worker and
   * answered by a future, so the loop never waits on it. The hop to the blocking pool that was here
   * cost two thread wake-ups per request, and on two shared cores each wake-up can wait a
   * scheduler slice: that was most of the p99. (The 1 request in 6,000 to 18,000 that JDK 17's HttpClient
   * lost against this was that client's own race: its pool closes a connection that a new request
   * has just taken when the reply comes back fast, "connection closed locally" in its log; see
   * PipelineLoad.Http1Connection, a plain HTTP/1.1 client, which lost none.)
   */
  @Post(value = "/{name}:predict", consumes = MediaType.APPLICATION_JSON)
  public CompletableFuture<HttpResponse<?>> predictJson(@PathVariable String name, @Nullable @QueryValue String id,
      @Nullable @QueryValue String label, @Nullable @QueryValue Boolean log1p, @Nullable @QueryValue Boolean strict,
      @Body Map<String, Object> body) {
    var m = models.get(name);
    if (m.isEmpty()) {
      return CompletableFuture.completedFuture(unknown(name));
    }
    Object instances = body == null ? null : body.get("instances");
    if (!(instances instanceof List<?> list) || list.isEmpty()) {
      return CompletableFuture.completedFuture(HttpResponse.badRequest(error("the body needs {\"instances\": [...]}:"
          + " arrays of feature values, or objects keyed by feature name")));
    }
    ContractRows.Options o = options(id, label, log1p, strict);
    List<ContractRows.Row> rows = new ArrayList<>(list.size());
    try {
      for (int i = 0; i < list.size(); i++) {
        rows.add(ContractRows.instance(m.get().contract, m.get().classes(), list.get(i), i, o));
      }
    } catch (RowRejectedException e) {
      return CompletableFuture.completedFuture(HttpResponse.badRequest(error(e.getMessage())));
    }
    return runAsync(m.get(), rows, 1);
  }

  /**
   * CSV with a header, as ingested: features by column name in any order, the id column echoed,
   * the label column (optional) scored.
   */
  @Post(value = "/{name}:predict", consumes = {"text/csv", MediaType.TEXT_PLAIN})
  @ExecuteOn(TaskExecutors.BLOCKING)
  public HttpResponse<?> predictCsv(@PathVariable String name, @Nullable @QueryValue String id,
      @Nullable @QueryValue String label, @Nullable @QueryValue Boolean log1p, @Nullable @QueryValue Boolean strict,
      @Body String body) {
    var m = models.get(name);
    if (m.isEmpty()) {
      return unknown(name);
    }
    try (ContractRows in = ContractRows.csv(m.get().contract, m.get().classes(),
        new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), RowParser.DEFAULT_MAX_LINE_BYTES,
        options(id, label, log1p, strict))) {
      List<ContractRows.Row> rows = new ArrayList<>();
      ContractRows.Row r;
      while ((r = in.next()) != null) {
        rows.add(r);
      }
      if (rows.isEmpty()) {
        return HttpResponse.badRequest(error("the CSV has a header but no rows"));
      }
      return run(m.get(), rows);
    } catch (RowRejectedException | IllegalArgumentException e) {
      return HttpResponse.badRequest(error(e.getMessage()));
    } catch (IOException e) {
      return HttpResponse.badRequest(error("cannot read the body: " + e.getMessage()));
    }
  }

  /**
   * A PNG or JPEG image: decoded to the model's C×H×W (grey for one channel, BGR for three; resized
   * when its size differs), then the contract's transform (scale, mean, centre crop) as for a row.
   * {@code label} (optional) names its true label, which scores it; {@code id} is echoed.
   */
  @Post(value = "/{name}:predict", consumes = {"image/png", "image/jpeg"})
  @ExecuteOn(TaskExecutors.BLOCKING)
  public HttpResponse<?> predictImage(@PathVariable String name, @Nullable @QueryValue String id,
      @Nullable @QueryValue String label, @Body byte[] body) {
    var m = models.get(name);
    if (m.isEmpty()) {
      return unknown(name);
    }
    try {
      if (body == null || body.length == 0) {
        return HttpResponse.badRequest(error("the body is empty; it needs a PNG or JPEG image"));
      }
      int labelIndex = -1;
      if (label != null && !label.isEmpty()) {
        labelIndex = m.get().contract.labelIndex(label, m.get().classes());
        if (labelIndex < 0) {
          return HttpResponse.badRequest(error("unknown label '" + label + "' (the model's labels: "
              + m.get().labels + ")"));
        }
      }
      return run(m.get(), List.of(new ContractRows.Row(1, id, m.get().imageRow(body), labelIndex)));
    } catch (IllegalArgumentException e) {
      return HttpResponse.badRequest(error(e.getMessage()));
    }
  }

  /** The CSV path, on a blocking thread: waits for {@link #runAsync}. */
  private HttpResponse<?> run(ServedModel m, List<ContractRows.Row> rows) {
    try {
      return runAsync(m, rows, 1).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return HttpResponse.serverError(error("prediction failed: interrupted"));
    } catch (ExecutionException e) {
      return HttpResponse.serverError(error("prediction failed: " + e.getMessage()));
    }
  }

  /**
   * The rows through the model, then the reply. A model replaced by a newer checkpoint between
   * lookup and predict sends the request on to the newer one (up to twice).
   */
  private CompletableFuture<HttpResponse<?>> runAsync(ServedModel m, List<ContractRows.Row> rows, int attempt) {
    float[][] raw = new float[rows.size()][];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = rows.get(i).values();
    }
    return m.predict(raw).<CompletableFuture<HttpResponse<?>>>handle((out, failure) -> {
      if (failure == null) {
        return CompletableFuture.completedFuture(respond(m, rows, out));
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      var newer = models.get(m.checkpoint.getModel());
      if (cause instanceof ServedModel.ReplacedException && attempt < 3 && newer.isPresent()) {
        return runAsync(newer.get(), rows, attempt + 1);
      }
      // As ExecutionException.getMessage() words it: the cause's class and message.
      return CompletableFuture.completedFuture(HttpResponse.serverError(error("prediction failed: " + cause)));
    }).thenCompose(f -> f);
  }

  private HttpResponse<?> respond(ServedModel m, List<ContractRows.Row> rows, float[][] out) {
    List<Prediction> preds = new ArrayList<>();
    Scores scores = new Scores();
    for (int i = 0; i < out.length; i++) {
      float[] p = out[i];
      Map<String, Float> byLabel = new LinkedHashMap<>();
      int best = 0;
      for (int c = 0; c < p.length; c++) {
        byLabel.put(m.labels.get(c), p[c]);
        if (p[c] > p[best]) {
          best = c;
        }
      }
      preds.add(new Prediction(rows.get(i).id(), byLabel, m.labels.get(best)));
      if (rows.get(i).label() >= 0) {
        scores.add(p, rows.get(i).label());
      }
    }
    boolean scored = scores.count() > 0;
    return HttpResponse.ok(new Predictions(m.checkpoint.getModel(), m.checkpoint.getIteration(),
        m.checkpoint.getSha256(), preds, scored ? scores.count() : null, scored ? scores.accuracy() : null,
        scored ? scores.loss() : null));
  }
}
