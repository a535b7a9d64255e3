package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.proto.Checkpoint;
import io.micronaut.json.JsonMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs you can trust, on a real broker with the trainer as its own process: a job accepted with
 * 2xx runs exactly once, whenever it arrives (restarts included); a stop survives a restart; a job
 * is its id, so a reused model name starts fresh; a job that cannot start says why without holding
 * up the ones behind it.
 */
class JobsTest {
  static final JsonMapper JSON = JsonMapper.createDefault();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final int MAX_ITER = 300;

  @TempDir
  static Path tmp;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    var r = send("POST", ingest.url() + "/v1/datasets/jobs/rows?label=digit&split=train", "text/csv",
        PipelineSupport.digitsCsv());
    assertEquals(200, r.statusCode(), r.body());
  }

  @AfterAll
  static void stop() throws Exception {
    Files.writeString(Path.of("target/jobs-trainer.log"), trainer.log());
    trainer.close();
    ingest.close();
    broker.close();
  }

  static HttpResponse<String> send(String method, String url, String type, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(String body) throws Exception {
    return JSON.readValue(body, Map.class);
  }

  /** Posts a job of the small digits net on {@code dataset}'s train split. */
  static HttpResponse<String> submit(String model, int maxIter, String dataset) throws Exception {
    return send("POST", trainer.url() + "/v1/jobs", "application/json", JSON.writeValueAsString(Map.of("model", model,
        "solver", PipelineSupport.smallSolver(maxIter, 100),
        "net", PipelineSupport.smallDigitsNet("crema.datums." + dataset + ".train"))));
  }

  static Map<String, Object> job(String id) throws Exception {
    HttpResponse<String> r = send("GET", trainer.url() + "/v1/jobs/" + id, "application/json", null);
    return r.statusCode() == 200 ? json(r.body()) : Map.of("state", "HTTP " + r.statusCode() + " " + r.body());
  }

  static void awaitState(String id, String state, int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    Map<String, Object> j = Map.of();
    while (System.currentTimeMillis() < deadline) {
      j = job(id);
      if (state.equals(j.get("state"))) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("job " + id + " is " + j + ", not " + state + "\n" + trainer.log());
  }

  /** Every checkpoint on the topic, in publish order. */
  static List<Checkpoint> checkpoints() throws Exception {
    List<Checkpoint> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.CHECKPOINTS)) {
      out.add(Checkpoint.parseFrom(r.value()));
    }
    return out;
  }

  @Test
  void twentyJobsPostedAcrossTwoTrainerRestartsEachRunExactlyOnce() throws Exception {
    Random random = new Random();
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    ExecutorService poster = Executors.newSingleThreadExecutor();
    Future<?> posting = poster.submit(() -> {
      for (int i = 0; i < 20; i++) {
        Thread.sleep(random.nextInt(700));
        while (true) {
          try {
            HttpResponse<String> r = submit("many-" + i, MAX_ITER, "jobs");
            if (r.statusCode() == 201) {
              accepted.add((String) json(r.body()).get("id"));
              break;
            }
          } catch (java.io.IOException e) {
            // The trainer is restarting: nothing was accepted; ask again.
          }
          Thread.sleep(100);
        }
      }
      return null;
    });
    for (int restart = 0; restart < 2; restart++) {
      Thread.sleep(2000 + random.nextInt(3000));
      trainer.close();
      trainer.start();
    }
    posting.get(5, TimeUnit.MINUTES);
    poster.shutdown();
    assertEquals(20, accepted.size());
    for (String id : accepted) {
      awaitState(id, "FINISHED", 300);
    }
    // Exactly once: each run published its final checkpoint once, and never an iteration twice.
    Map<String, List<Integer>> iterations = new HashMap<>();
    for (Checkpoint c : checkpoints()) {
      iterations.computeIfAbsent(c.getRun(), k -> new ArrayList<>()).add(c.getIteration());
    }
    for (String id : accepted) {
      List<Integer> its = iterations.get(id);
      assertTrue(its != null && its.get(its.size() - 1) == MAX_ITER, id + ": " + its);
      assertEquals(its.stream().distinct().sorted().toList(), its, id + " published an iteration twice: " + its);
    }
    // And exactly one FINISHED record per job on crema.jobs.
    Map<String, Integer> finished = new ConcurrentHashMap<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.JOBS)) {
      if (r.value().length > 0) {
        crema.proto.Job j = crema.proto.Job.parseFrom(r.value());
        if (j.getState().equals("FINISHED")) {
          finished.merge(j.getId(), 1, Integer::sum);
        }
      }
    }
    for (String id : accepted) {
      assertEquals(1, finished.getOrDefault(id, 0), id);
    }
  }

  @Test
  void aStoppedJobStaysStoppedAndAReusedModelNameStartsFresh() throws Exception {
    String first = (String) json(submit("again", MAX_ITER, "jobs").body()).get("id");
    awaitState(first, "FINISHED", 120);
    String second = (String) json(submit("again", MAX_ITER, "jobs").body()).get("id");
    awaitState(second, "FINISHED", 120);
    List<Checkpoint> all = checkpoints();
    List<Integer> secondIterations = all.stream().filter(c -> c.getRun().equals(second)).map(Checkpoint::getIteration)
        .toList();
    assertEquals(List.of(100, 200, 300), secondIterations, "the second run trained from iteration 0");
    Checkpoint a = all.stream().filter(c -> c.getRun().equals(first) && c.getIteration() == MAX_ITER).findFirst()
        .orElseThrow();
    Checkpoint b = all.stream().filter(c -> c.getRun().equals(second) && c.getIteration() == MAX_ITER).findFirst()
        .orElseThrow();
    assertArrayEquals(a.getCaffemodel().toByteArray(), b.getCaffemodel().toByteArray(),
        "a fresh start with the same seed and data gives the same weights");

    String stopped = (String) json(submit("stopme", 1_000_000, "jobs").body())
        .get("id");
    awaitState(stopped, "RUNNING", 60);
    assertEquals(202, send("POST", trainer.url() + "/v1/jobs/" + stopped + ":stop", "application/json", null)
        .statusCode());
    awaitState(stopped, "STOPPED", 60);
    long before = checkpoints().stream().filter(c -> c.getRun().equals(stopped)).count();
    trainer.close();
    trainer.start();
    awaitState(stopped, "STOPPED", 60);
    Thread.sleep(3000);
    assertEquals(before, checkpoints().stream().filter(c -> c.getRun().equals(stopped)).count(),
        "a stopped job does not resume after a restart");
    assertTrue(!trainer.log().contains("resuming from checkpoint at iteration") || !trainer.log()
        .contains("(job " + stopped + ")"), trainer.log());
  }

  @Test
  void aJobThatCannotStartSaysWhyAndHoldsUpNoOther() throws Exception {
    HttpResponse<String> missing = submit("nope", MAX_ITER, "nope");
    assertEquals(400, missing.statusCode(), missing.body());
    String error = (String) json(missing.body()).get("error");
    assertTrue(error.contains("layer 'data'") && error.contains("'crema.datums.nope.train'"), error);

    try (var admin = new KafkaClients(broker.bootstrapServers(), Map.of()).admin("test")) {
      admin.createTopics(List.of(new NewTopic("crema.datums.later.train", 1, (short) 1))).all().get();
    }
    String waiting = (String) json(submit("later", MAX_ITER, "later").body())
        .get("id");
    awaitState(waiting, "WAITING", 30);
    assertTrue(job(waiting).get("message").toString().contains("'crema.datums.later.train' holds no records"),
        job(waiting).toString());
    long start = System.currentTimeMillis();
    String behind = (String) json(submit("behind", MAX_ITER, "jobs").body()).get("id");
    awaitState(behind, "FINISHED", 60);
    System.out.println("a job behind a WAITING one finished in " + (System.currentTimeMillis() - start) + " ms");
    assertEquals("WAITING", job(waiting).get("state"));

    // Once its topic has rows, the waiting job runs.
    var r = send("POST", ingest.url() + "/v1/datasets/later/rows?label=digit&split=train", "text/csv",
        PipelineSupport.digitsCsv());
    assertEquals(200, r.statusCode(), r.body());
    awaitState(waiting, "FINISHED", 120);
  }
}
