package crema.inference;

import crema.engine.csv.CsvLines;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
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

/** {@code /v1/models}: the served models, and predictions from them. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@io.micronaut.context.annotation.Requires(property = "crema.services.inference", notEquals = "false")
@Controller("/v1/models")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ModelController {
  @Serdeable
  public record Instances(List<List<Double>> instances) {}

  @Serdeable
  public record Prediction(Map<String, Float> probabilities, String label) {}

  @Serdeable
  public record Predictions(String model, int iteration, String sha256, List<Prediction> predictions) {}

  @Serdeable
  public record ModelView(String model, String run, int iteration, Map<String, Double> metrics, long loadedAtMs,
      String sha256, List<String> labels) {
    static ModelView of(ServedModel m) {
      var c = m.checkpoint;
      return new ModelView(c.getModel(), c.getRun(), c.getIteration(), c.getMetricsMap(), m.loadedAtMs,
          c.getSha256(), m.labels);
    }
  }

  private final Models models;

  public ModelController(Models models) {
    this.models = models;
  }

  @Get
  public List<ModelView> list() {
    return models.all().values().stream().map(ModelView::of).toList();
  }

  @Get("/{name}")
  public HttpResponse<?> get(@PathVariable String name) {
    return models.get(name).<HttpResponse<?>>map(m -> HttpResponse.ok(ModelView.of(m)))
        .orElse(HttpResponse.notFound(Map.of("error", "no model '" + name + "' is served")));
  }

  /** JSON {@code {"instances": [[f1, …], …]}}. */
  @Post(value = "/{name}:predict", consumes = MediaType.APPLICATION_JSON)
  public HttpResponse<?> predictJson(@PathVariable String name, @Body Instances body) {
    var m = models.get(name);
    if (m.isEmpty()) {
      return HttpResponse.notFound(Map.of("error", "no model '" + name + "' is served"));
    }
    if (body == null || body.instances() == null || body.instances().isEmpty()) {
      return HttpResponse.badRequest(Map.of("error", "the body needs {\"instances\": [[...], ...]}"));
    }
    float[][] rows = new float[body.instances().size()][];
    for (int i = 0; i < rows.length; i++) {
      List<Double> in = body.instances().get(i);
      if (in == null || in.size() != m.get().inputSize()) {
        return HttpResponse.badRequest(Map.of("error", "instance " + i + " has " + (in == null ? 0 : in.size())
            + " values; the model takes " + m.get().inputSize()));
      }
      rows[i] = new float[in.size()];
      for (int j = 0; j < in.size(); j++) {
        Double v = in.get(j);
        if (v == null || !Double.isFinite(v)) {
          return HttpResponse.badRequest(Map.of("error", "instance " + i + ", value " + j + " is not a finite number"));
        }
        rows[i][j] = v.floatValue();
      }
    }
    return run(m.get(), rows);
  }

  /** CSV with a header; {@code id} and {@code label} name columns that are not features. */
  @Post(value = "/{name}:predict", consumes = {"text/csv", MediaType.TEXT_PLAIN})
  public HttpResponse<?> predictCsv(@PathVariable String name, @Nullable @QueryValue String id,
      @Nullable @QueryValue String label, @Nullable @QueryValue Boolean log1p, @Body String body) {
    var m = models.get(name);
    if (m.isEmpty()) {
      return HttpResponse.notFound(Map.of("error", "no model '" + name + "' is served"));
    }
    try (CsvLines lines = new CsvLines(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)),
        RowParser.DEFAULT_MAX_LINE_BYTES)) {
      byte[] head = lines.next();
      if (head == null) {
        return HttpResponse.badRequest(Map.of("error", "the body is empty; it needs a CSV header"));
      }
      CsvSchema schema = CsvSchema.of(RowParser.fields(head, RowParser.DEFAULT_MAX_LINE_BYTES), id, label);
      if (schema.featureCount() != m.get().inputSize()) {
        return HttpResponse.badRequest(Map.of("error", "the CSV has " + schema.featureCount()
            + " feature columns; the model takes " + m.get().inputSize()));
      }
      List<float[]> rows = new ArrayList<>();
      byte[] line;
      while ((line = lines.next()) != null) {
        List<String> f = RowParser.fields(line, RowParser.DEFAULT_MAX_LINE_BYTES);
        if (f.size() != schema.columns()) {
          throw new RowRejectedException("column_count", "line " + lines.lineNumber() + ": expected " + schema.columns()
              + " columns, found " + f.size());
        }
        float[] x = new float[schema.featureCount()];
        for (int i = 0; i < x.length; i++) {
          int c = schema.featureColumn(i);
          try {
            x[i] = RowParser.feature(f.get(c), schema.header().get(c), Boolean.TRUE.equals(log1p));
          } catch (RowRejectedException e) {
            throw new RowRejectedException(e.kind(), "line " + lines.lineNumber() + ": " + e.getMessage());
          }
        }
        rows.add(x);
      }
      return run(m.get(), rows.toArray(new float[0][]));
    } catch (RowRejectedException | IllegalArgumentException e) {
      return HttpResponse.badRequest(Map.of("error", e.getMessage()));
    } catch (IOException e) {
      return HttpResponse.badRequest(Map.of("error", "cannot read the body: " + e.getMessage()));
    }
  }

  private HttpResponse<?> run(ServedModel m, float[][] rows) {
    float[][] out;
    try {
      out = m.predict(rows).get();
    } catch (Exception e) {
      return HttpResponse.serverError(Map.of("error", "prediction failed: " + e.getMessage()));
    }
    List<Prediction> preds = new ArrayList<>();
    for (float[] p : out) {
      Map<String, Float> byLabel = new LinkedHashMap<>();
      int best = 0;
      for (int c = 0; c < p.length; c++) {
        byLabel.put(m.labels.get(c), p[c]);
        if (p[c] > p[best]) {
          best = c;
        }
      }
      preds.add(new Prediction(byLabel, m.labels.get(best)));
    }
    return HttpResponse.ok(new Predictions(m.checkpoint.getModel(), m.checkpoint.getIteration(),
        m.checkpoint.getSha256(), preds));
  }
}
