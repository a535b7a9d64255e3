package crema.visualizer;

import com.fasterxml.jackson.annotation.JsonInclude;
import crema.bus.Topics;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.json.JsonMapper;
import io.micronaut.serde.annotation.Serdeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * The dashboard's JSON API and its server push. Thin: the state is {@link PipelineView}'s, the
 * drawings' data {@link NetGraphs}' and {@link CheckpointWeights}'; predictions are the inference
 * service's, passed through.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Controller("/api")
public class DashboardController {
  /** How often server push looks for changes. */
  static final Duration PUSH_PERIOD = Duration.ofMillis(500);
  static final String PNG = "image/png";

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Overview(List<Run.Summary> runs, List<Dataset.View> datasets, boolean caughtUp) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Problem(String error) {}

  private final PipelineView view;
  private final NetGraphs graphs;
  private final CheckpointWeights weights;
  private final DatasetSamples samples;
  private final FeatureMaps features;
  private final VisualizerConfig config;
  private final JsonMapper json;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String apiToken;

  public DashboardController(PipelineView view, NetGraphs graphs, CheckpointWeights weights, DatasetSamples samples,
      FeatureMaps features, VisualizerConfig config, JsonMapper json, @Value("${crema.api.token:}") String apiToken) {
    this.samples = samples;
    this.features = features;
    this.apiToken = apiToken;
    this.view = view;
    this.graphs = graphs;
    this.weights = weights;
    this.config = config;
    this.json = json;
  }

  @Get("/overview")
  public Overview overview() {
    return new Overview(view.runs(), view.datasets(), view.caughtUp());
  }

  /** The overview again each time anything changes. */
  @Get(value = "/stream", produces = MediaType.TEXT_EVENT_STREAM)
  public Publisher<Event<String>> overviewStream() {
    return Flux.interval(Duration.ZERO, PUSH_PERIOD).map(t -> view.version()).distinctUntilChanged()
        .map(v -> Event.of(write(overview())).name("overview").id(Long.toString(v)));
  }

  @Get("/runs/{run}")
  public HttpResponse<?> run(@PathVariable String run) {
    return view.run(run).<HttpResponse<?>>map(HttpResponse::ok)
        .orElseGet(() -> notFound("no run '" + run + "' on the topics"));
  }

  /** A run's whole detail (curves included) again each time the run changes. */
  @Get(value = "/runs/{run}/stream", produces = MediaType.TEXT_EVENT_STREAM)
  public Publisher<Event<String>> runStream(@PathVariable String run) {
    return Flux.interval(Duration.ZERO, PUSH_PERIOD).map(t -> view.runVersion(run)).distinctUntilChanged()
        .filter(v -> v >= 0).map(v -> Event.of(write(view.run(run).orElseThrow())).name("run").id(Long.toString(v)));
  }

  @Get("/runs/{run}/net")
  public HttpResponse<?> net(@PathVariable String run, @Nullable @QueryValue Boolean deploy) {
    boolean d = deploy != null && deploy;
    var text = view.netText(run, d);
    if (text.isEmpty()) {
      return notFound("run '" + run + "' has no " + (d ? "deploy" : "train/test") + " net yet");
    }
    String deployText = view.netText(run, true).orElse("");
    try {
      return HttpResponse.ok(graphs.graph(text.get(), deployText, "run " + run + (d ? " deploy net" : " net")));
    } catch (RuntimeException e) {
      return HttpResponse.unprocessableEntity().body(new Problem(e.getMessage()));
    }
  }

  @Get("/runs/{run}/checkpoints/{iteration}")
  public HttpResponse<?> checkpoint(@PathVariable String run, @PathVariable int iteration) {
    var ref = view.checkpoint(run, iteration);
    if (ref.isEmpty()) {
      return notFound("run '" + run + "' has no checkpoint at iteration " + iteration);
    }
    return HttpResponse.ok(weights.weights(run, ref.get()));
  }

  @Get("/datasets")
  public List<Dataset.View> datasets() {
    return view.datasets();
  }

  /** A checkpoint's filter bank (layer index in its caffemodel, blob index) as Caffe's vis_square, a PNG. */
  @Get(value = "/runs/{run}/checkpoints/{iteration}/filters/{layer}/{param}.png")
  public HttpResponse<?> filters(@PathVariable String run, @PathVariable int iteration, @PathVariable int layer,
      @PathVariable int param) {
    var ref = view.checkpoint(run, iteration);
    if (ref.isEmpty()) {
      return notFound("run '" + run + "' has no checkpoint at iteration " + iteration);
    }
    try {
      byte[] png = weights.filtersPng(run, ref.get(), layer, param);
      return png == null ? notFound("layer " + layer + " of the checkpoint has no 4-D blob " + param) : png(png);
    } catch (RuntimeException e) {
      return unprocessable(e);
    }
  }

  /**
   * One sample's feature maps under a checkpoint: the sample and, per conv layer, its output's
   * shape. The sample is the first TEST Datum, or sample {@code k} of class {@code label}.
   */
  @Get("/runs/{run}/checkpoints/{iteration}/features")
  public HttpResponse<?> features(@PathVariable String run, @PathVariable int iteration,
      @Nullable @QueryValue Integer label, @Nullable @QueryValue Integer k) {
    try {
      return computed(run, iteration, label, k).<HttpResponse<?>>map(c -> HttpResponse.ok(c.features()))
          .orElseGet(() -> notFound("run '" + run + "' has no checkpoint at iteration " + iteration));
    } catch (RuntimeException e) {
      return unprocessable(e);
    }
  }

  /** The sample the feature maps are of, as a PNG (404 when it is no image). */
  @Get(value = "/runs/{run}/checkpoints/{iteration}/features/sample.png")
  public HttpResponse<?> featureSample(@PathVariable String run, @PathVariable int iteration,
      @Nullable @QueryValue Integer label, @Nullable @QueryValue Integer k) {
    try {
      var c = computed(run, iteration, label, k);
      if (c.isEmpty()) {
        return notFound("run '" + run + "' has no checkpoint at iteration " + iteration);
      }
      return c.get().sample() == null ? notFound("the sample is no image") : png(c.get().sample());
    } catch (RuntimeException e) {
      return unprocessable(e);
    }
  }

  /** Conv layer {@code i}'s (of the features' list) output channels as a vis_square PNG. */
  @Get(value = "/runs/{run}/checkpoints/{iteration}/features/{i}.png")
  public HttpResponse<?> featureMap(@PathVariable String run, @PathVariable int iteration, @PathVariable int i,
      @Nullable @QueryValue Integer label, @Nullable @QueryValue Integer k) {
    try {
      var c = computed(run, iteration, label, k);
      if (c.isEmpty()) {
        return notFound("run '" + run + "' has no checkpoint at iteration " + iteration);
      }
      List<byte[]> pngs = c.get().pngs();
      return i < 0 || i >= pngs.size() ? notFound("no feature map " + i + " (" + pngs.size() + " conv layers)")
          : png(pngs.get(i));
    } catch (RuntimeException e) {
      return unprocessable(e);
    }
  }

  private java.util.Optional<FeatureMaps.Computed> computed(String run, int iteration, Integer label, Integer k) {
    var ref = view.checkpoint(run, iteration);
    if (ref.isEmpty()) {
      return java.util.Optional.empty();
    }
    FeatureMaps.Choice choice = label == null ? null : new FeatureMaps.Choice(label, k == null ? 0 : k);
    return java.util.Optional.of(features.features(run, ref.get(), choice, view::datasetLabels));
  }

  /** Sample images per class of an image dataset (the first few of each label on its Datum topics). */
  @Get("/datasets/{dataset}/samples")
  public HttpResponse<?> samples(@PathVariable String dataset) {
    if (!dataset.matches("[A-Za-z0-9_-]{1,100}")) {
      return notFound("no dataset '" + dataset + "'");
    }
    return HttpResponse.ok(samples.samples(dataset, view.datasetLabels(dataset)));
  }

  /** Sample {@code k} of class {@code label}, a PNG of the image's own size. */
  @Get(value = "/datasets/{dataset}/samples/{label}/{k}.png")
  public HttpResponse<?> sample(@PathVariable String dataset, @PathVariable int label, @PathVariable int k) {
    if (!dataset.matches("[A-Za-z0-9_-]{1,100}")) {
      return notFound("no dataset '" + dataset + "'");
    }
    try {
      return samples.png(dataset, view.datasetLabels(dataset), label, k).<HttpResponse<?>>map(this::png)
          .orElseGet(() -> notFound("dataset '" + dataset + "' has no sample " + k + " of class " + label));
    } catch (RuntimeException e) {
      return unprocessable(e);
    }
  }

  private HttpResponse<?> png(byte[] bytes) {
    return HttpResponse.ok(bytes).contentType(PNG);
  }

  /** The models the inference service serves now, as it lists them. */
  @Get("/models")
  public HttpResponse<String> models() {
    return forward(HttpRequest.newBuilder(URI.create(config.getInferenceUrl() + "/v1/models")).GET());
  }

  /**
   * A CSV as it was ingested, predicted by the inference service's served model, whose contract
   * maps the columns: its answer, unchanged.
   */
  @Post(value = "/models/{model}/predict", consumes = {"text/csv", MediaType.TEXT_PLAIN})
  public HttpResponse<String> predict(@PathVariable String model, @Body String csv) {
    Topics.checkName(model, "model");
    return forward(HttpRequest.newBuilder(URI.create(config.getInferenceUrl() + "/v1/models/" + model + ":predict"))
        .header("Content-Type", "text/csv").POST(HttpRequest.BodyPublishers.ofString(csv)));
  }

  private HttpResponse<String> forward(HttpRequest.Builder request) {
    if (!apiToken.isEmpty()) {
      // The services of one deployment share the token.
      request.header("Authorization", "Bearer " + apiToken);
    }
    try {
      var r = http.send(request.timeout(Duration.ofSeconds(60)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      return HttpResponse.<String>status(HttpStatus.valueOf(r.statusCode())).contentType(MediaType.APPLICATION_JSON_TYPE)
          .body(r.body());
    } catch (IOException e) {
      return HttpResponse.<String>status(HttpStatus.BAD_GATEWAY).contentType(MediaType.APPLICATION_JSON_TYPE)
          .body(write(new Problem("the inference service at " + config.getInferenceUrl() + " did not answer: "
              + e.getMessage())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return HttpResponse.status(HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  private static HttpResponse<?> notFound(String why) {
    return HttpResponse.notFound(new Problem(why)).contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  private static HttpResponse<?> unprocessable(RuntimeException e) {
    return HttpResponse.unprocessableEntity().body(new Problem(e.getMessage())).contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  private String write(Object value) {
    try {
      return json.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
