package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.up.CremaUp;
import io.micronaut.context.ApplicationContext;
import io.micronaut.http.MediaType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The four services on a real broker after a small run (rows with a bad one, a job with two
 * checkpoints, predictions): what Prometheus scrapes from them and what /health says.
 */
class OperationsTest {
  static final List<String> SERVICES = List.of("ingest", "trainer", "inference", "visualizer");
  static EmbeddedBroker broker;
  static final Map<String, ApplicationContext> CONTEXTS = new HashMap<>();
  static final Map<String, String> URLS = new HashMap<>();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final Set<String> SCRAPED = new TreeSet<>();

  @BeforeAll
  static void runThePipelineAndScrape() throws Exception {
    broker = EmbeddedBroker.shared();
    for (String s : SERVICES) {
      int port = PipelineSupport.freePort();
      URLS.put(s, "http://localhost:" + port);
      Map<String, Object> extra = s.equals("visualizer")
          ? Map.of("crema.visualizer.inference-url", URLS.get("inference")) : Map.of();
      CONTEXTS.put(s, CremaUp.service(s, port, broker.bootstrapServers(), extra));
    }
    String csv = PipelineSupport.digitsCsv();
    csv = csv + "1,2,x\n";
    Map<String, Object> in = PipelineSupport.post(URLS.get("ingest"),
        "/v1/datasets/opsdigits/rows?label=digit&split=train", csv, MediaType.of("text/csv"));
    assertEquals(1, ((Number) in.get("rejected")).intValue(), in.toString());
    // The digits net with a TEST phase reading the same topic, so that test scores are exported too.
    String net = """
        layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
          data_param { source: "crema.datums.opsdigits.train" batch_size: 100 backend: KAFKA } }
        """ + DigitsPipelineTest.NET.replace("crema.datums.digits.train", "crema.datums.opsdigits.train")
        .replace("top: \"label\"\n", "top: \"label\" include { phase: TRAIN }\n") + """
        layer { name: "accuracy" type: "Accuracy" bottom: "ip3" bottom: "label" top: "accuracy" include { phase: TEST } }
        """;
    PipelineSupport.post(URLS.get("trainer"), "/v1/jobs", Map.of("model", "opsdigits",
        "solver", "type: 'Adam' base_lr: 0.001 lr_policy: 'fixed' display: 50 max_iter: 200 snapshot: 100"
            + " test_iter: 2 test_interval: 100",
        "net", net, "labels", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), MediaType.APPLICATION_JSON_TYPE);
    long deadline = System.currentTimeMillis() + 180_000;
    while (!get("inference", "/v1/models/opsdigits").contains("\"iteration\":200,")) {
      assertTrue(System.currentTimeMillis() < deadline, "the second checkpoint was not served");
      Thread.sleep(300);
    }
    List<List<Double>> rows = new ArrayList<>();
    rows.add(new ArrayList<>(java.util.Collections.nCopies(64, 1.0)));
    PipelineSupport.post(URLS.get("inference"), "/v1/models/opsdigits:predict", Map.of("instances", rows),
        MediaType.APPLICATION_JSON_TYPE);
    HTTP.send(HttpRequest.newBuilder(URI.create(URLS.get("inference") + "/v1/models/nope:predict"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[1]]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    while (!get("visualizer", "/api/overview").contains("\"caughtUp\":true")) {
      Thread.sleep(200);
    }
    // GC pause meters appear at a service's first collection after it started; make sure there was one.
    System.gc();
    Thread.sleep(1000);
    StringBuilder all = new StringBuilder();
    for (String s : SERVICES) {
      String text = get(s, "/prometheus");
      all.append("# ").append(s).append('\n').append(text);
      for (String line : text.split("\n")) {
        if (!line.startsWith("#") && !line.isBlank()) {
          SCRAPED.add(line.split("[{ ]")[0]);
        }
      }
    }
    Files.writeString(Path.of("target/prometheus-scrape.txt"), all);
  }

  @AfterAll
  static void stop() {
    CONTEXTS.values().forEach(ApplicationContext::close);
  }

  static String get(String service, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(URLS.get(service) + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  static double value(String service, String series) throws Exception {
    for (String line : get(service, "/prometheus").split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError(series + " not in " + service + "'s scrape");
  }

  /** Every query of the Grafana dashboard names only metrics the services export. */
  @Test
  void everyDashboardQueryNamesAnExportedMetric() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(
        DeploymentFilesTest.REPO.resolve("deploy/grafana/dashboards/crema.json").toFile());
    int queries = 0;
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.get("expr").asText();
        for (String metric : DeploymentFilesTest.metricNames(expr)) {
          assertTrue(SCRAPED.contains(metric), "panel '" + panel.get("title").asText() + "': " + metric
              + " is not exported (see pipeline-tests/target/prometheus-scrape.txt)");
          queries++;
        }
      }
    }
    assertTrue(queries >= 30, "the dashboard's queries were read: " + queries);
  }

  @Test
  void theMetricsCountWhatHappened() throws Exception {
    assertEquals(1797, value("ingest", "crema_ingest_rows_total{dataset=\"opsdigits\",reason=\"none\",result=\"accepted\"}"));
    assertEquals(1, value("ingest", "crema_ingest_rows_total{dataset=\"opsdigits\",reason=\"column_count\",result=\"rejected\"}"));
    assertEquals(200, value("trainer", "crema_trainer_iteration{model=\"opsdigits\"}"));
    assertEquals(2, value("trainer", "crema_trainer_checkpoint_size_bytes_count{model=\"opsdigits\"}"));
    assertEquals(200, value("inference", "crema_inference_model_iteration{model=\"opsdigits\"}"));
    assertEquals(1, value("inference", "crema_inference_requests_total{model=\"opsdigits\",status=\"200\"}"));
    assertEquals(1, value("inference", "crema_inference_requests_total{model=\"unknown\",status=\"404\"}"),
        "a model that is not served is not a label value");
    assertTrue(SCRAPED.contains("jvm_gc_pause_seconds_count") && SCRAPED.contains("kafka_producer_record_send_total"),
        "JVM, GC and Kafka client metrics");
    assertTrue(get("inference", "/prometheus").contains(
        "kafka_consumer_fetch_manager_records_consumed_total{client_id=\"crema-inference-checkpoints\""),
        "the checkpoint follower's consumer metrics");
  }

  @Test
  void readinessSaysKafkaAndTheModel() throws Exception {
    for (String s : SERVICES) {
      String health = get(s, "/health/readiness");
      assertTrue(health.contains("\"kafka\":{") && health.contains("\"status\":\"UP\""), s + ": " + health);
    }
    assertTrue(get("inference", "/health").contains("\"models\":{\"name\":\"crema-inference\",\"status\":\"UP\""));
  }
}
