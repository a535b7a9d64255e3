package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.proto.Checkpoint;
import io.micronaut.json.JsonMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention cannot eat a run: on a broker whose defaults delete everything after a second, the
 * pipeline's topics keep what it needs. Thirty seconds after a run ends, restarted services still
 * have the whole run: the trainer lists it and can continue it, inference serves its final
 * checkpoint and the dashboard shows every point of it.
 */
class RetentionTest {
  static final JsonMapper JSON = JsonMapper.createDefault();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir
  static Path tmp;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static ServiceProcess visualizer;

  @BeforeAll
  static void start() throws Exception {
    // Every segment rolls after a second and is deleted a second later, unless its topic says otherwise.
    broker = EmbeddedBroker.start(Map.of("log.retention.ms", "1000", "log.retention.check.interval.ms", "1000",
        "log.roll.ms", "1000", "log.segment.delete.delay.ms", "0"));
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp).start();
    visualizer = new ServiceProcess("visualizer", broker.bootstrapServers(), tmp,
        "-crema.visualizer.inference-url=" + inference.url()).start();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {visualizer, inference, trainer, ingest, broker}) {
      if (c != null) {
        c.close();
      }
    }
  }

  static HttpResponse<String> send(String method, String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type",
        url.contains("/rows") ? "text/csv" : "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> get(String url) throws Exception {
    HttpResponse<String> r = send("GET", url, null);
    return r.statusCode() == 200 ? JSON.readValue(r.body(), Map.class) : Map.of();
  }

  static Object await(String what, java.util.concurrent.Callable<Object> check) throws Exception {
    long deadline = System.currentTimeMillis() + 180_000;
    while (System.currentTimeMillis() < deadline) {
      Object v = check.call();
      if (v != null) {
        return v;
      }
      Thread.sleep(300);
    }
    throw new AssertionError(what + "\n" + trainer.log());
  }

  /** A job of the small digits net, with {@code extra} fields. */
  static String job(int maxIter, Map<String, Object> extra) throws Exception {
    Map<String, Object> job = new java.util.HashMap<>(Map.of("model", "ret", "solver",
        PipelineSupport.smallSolver(maxIter, 200), "net", PipelineSupport.smallDigitsNet("crema.datums.ret.train")));
    job.putAll(extra);
    return JSON.writeValueAsString(job);
  }

  @Test
  void thirtySecondsAfterARunEndsEveryServiceStillHasTheWholeRun() throws Exception {
    assertEquals(200, send("POST", ingest.url() + "/v1/datasets/ret/rows?label=digit&split=train",
        PipelineSupport.digitsCsv()).statusCode());
    String run = (String) JSON.readValue(send("POST", trainer.url() + "/v1/jobs", job(600, Map.of())).body(), Map.class)
        .get("id");
    await("the run finishes", () -> "FINISHED".equals(get(trainer.url() + "/v1/jobs/" + run).get("state")) ? 1 : null);
    Map<?, ?> served = (Map<?, ?>) await("the final checkpoint is served", () -> {
      Map<String, Object> m = get(inference.url() + "/v1/models/ret");
      return Integer.valueOf(600).equals(m.get("iteration")) ? m : null;
    });
    Map<?, ?> shown = (Map<?, ?>) await("the dashboard shows the finished run", () -> {
      Map<String, Object> r = get(visualizer.url() + "/api/runs/" + run);
      return r.get("summary") instanceof Map<?, ?> s && "FINISHED".equals(s.get("state")) ? r : null;
    });

    Thread.sleep(30_000);
    trainer.close();
    inference.close();
    visualizer.close();
    assertEquals(1797, PipelineSupport.readAll(broker, "crema.datums.ret.train").size(), "every datum is kept");
    trainer.start();
    inference.start();
    visualizer.start();

    await("the restarted inference serves the final checkpoint", () -> {
      Map<String, Object> m = get(inference.url() + "/v1/models/ret");
      return served.get("sha256").equals(m.get("sha256")) ? 1 : null;
    });
    await("the restarted dashboard has read the topics",
        () -> Boolean.TRUE.equals(get(visualizer.url() + "/api/overview").get("caughtUp")) ? 1 : null);
    assertEquals(shown, get(visualizer.url() + "/api/runs/" + run), "the whole run: its curves and checkpoints");
    assertEquals("FINISHED", get(trainer.url() + "/v1/jobs/" + run).get("state"), "the trainer knows the run ended");

    // The run can be continued: its checkpoint, solver state and data are all there.
    String next = (String) JSON.readValue(send("POST", trainer.url() + "/v1/jobs",
        job(800, Map.of("resume_from", run))).body(), Map.class).get("id");
    await("the continued run finishes", () -> "FINISHED".equals(get(trainer.url() + "/v1/jobs/" + next).get("state"))
        ? 1 : null);
    List<Integer> continued = PipelineSupport.readAll(broker, "crema.checkpoints").stream().map(this::parse)
        .filter(c -> c.getRun().equals(next)).map(Checkpoint::getIteration).toList();
    assertEquals(List.of(800), continued, "continued from iteration 600");
    assertTrue(trainer.log().contains("resuming from checkpoint at iteration 600 of run " + run), trainer.log());
  }

  private Checkpoint parse(ConsumerRecord<String, byte[]> r) {
    try {
      return Checkpoint.parseFrom(r.value());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
