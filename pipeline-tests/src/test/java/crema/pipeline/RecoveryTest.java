package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import com.google.protobuf.ByteString;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures on a real broker: the trainer killed with SIGKILL and restarted, the broker restarted
 * during training, corrupted checkpoints. Each run's final weights are compared with an
 * uninterrupted run of the same job on the same data.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecoveryTest {
  static final String NET = DigitsPipelineTest.NET.replace("crema.datums.digits.train", "crema.datums.rec.train");
  static final String SOLVER = """
      type: "SGD" base_lr: 0.01 momentum: 0.9 lr_policy: "inv" gamma: 0.0001 power: 0.75
      weight_decay: 0.0005 display: 1000 max_iter: 16000 snapshot: 2000 random_seed: 5
      """;
  static final int MAX_ITER = 16000;

  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static HttpClient http;
  static byte[] uninterrupted;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp).start();
    http = HttpClient.create(null);
    Map<String, Object> r = PipelineSupport.post(ingest.url(), "/v1/datasets/rec/rows?label=digit&split=train",
        PipelineSupport.digitsCsv(), MediaType.of("text/csv"));
    assertEquals(1797, ((Number) r.get("accepted")).intValue());
  }

  @AfterAll
  static void stop() throws Exception {
    http.close();
    inference.close();
    trainer.close();
    ingest.close();
    broker.close();
  }

  static void submit(String model) {
    PipelineSupport.post(trainer.url(), "/v1/jobs", Map.of("model", model, "solver", SOLVER, "net", NET),
        MediaType.APPLICATION_JSON_TYPE);
  }

  static Optional<Checkpoint> newest(String model) {
    Checkpoint best = null;
    for (Checkpoint c : PipelineSupport.checkpoints(broker.bootstrapServers())) {
      if (c.getModel().equals(model) && (best == null || c.getIteration() >= best.getIteration())) {
        best = c;
      }
    }
    return Optional.ofNullable(best);
  }

  static Checkpoint waitFor(String model, int iteration) throws Exception {
    long deadline = System.currentTimeMillis() + 300_000;
    while (System.currentTimeMillis() < deadline) {
      Optional<Checkpoint> c = newest(model);
      if (c.isPresent() && c.get().getIteration() >= iteration) {
        return c.get();
      }
      Thread.sleep(200);
    }
    throw new AssertionError(model + " never reached iteration " + iteration + "\n" + trainer.log());
  }

  @Test
  @Order(1)
  void uninterruptedRun() throws Exception {
    submit("rec-a");
    uninterrupted = waitFor("rec-a", MAX_ITER).getCaffemodel().toByteArray();
  }

  @Test
  @Order(2)
  void trainerKilledWithSigkillResumesToTheSameWeights() throws Exception {
    submit("rec-b");
    waitFor("rec-b", 2000);
    Thread.sleep(new Random().nextInt(400));
    assertTrue(newest("rec-b").get().getIteration() < MAX_ITER, "killed before the end");
    trainer.kill();
    int before = newest("rec-b").get().getIteration();
    trainer.start();
    Checkpoint done = waitFor("rec-b", MAX_ITER);
    assertTrue(trainer.log().contains("resuming from checkpoint at iteration " + before), trainer.log());
    assertArrayEquals(uninterrupted, done.getCaffemodel().toByteArray(), "final weights after a SIGKILL at "
        + before + "+ equal the uninterrupted run's");
  }

  @Test
  @Order(3)
  void brokerRestartLosesAndRepeatsNoRow() throws Exception {
    submit("rec-c");
    waitFor("rec-c", 2000);
    broker.restart();
    Checkpoint done = waitFor("rec-c", MAX_ITER);
    assertArrayEquals(uninterrupted, done.getCaffemodel().toByteArray(),
        "the same rows in the same order: final weights equal the uninterrupted run's");
    long deadline = System.currentTimeMillis() + 120_000;
    Map<?, ?> served = Map.of();
    while (System.currentTimeMillis() < deadline) {
      try {
        served = http.toBlocking().retrieve(HttpRequest.GET(inference.url() + "/v1/models/rec-c"), Map.class);
        if (((Number) served.get("iteration")).intValue() == MAX_ITER) {
          break;
        }
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        // not served yet
      }
      Thread.sleep(300);
    }
    assertEquals(MAX_ITER, ((Number) served.get("iteration")).intValue(), "inference recovered too");
  }

  @Test
  @Order(4)
  void corruptedCheckpointsNeverReplaceTheServedModel() throws Exception {
    Checkpoint good = waitFor("rec-a", MAX_ITER);
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        Map<?, ?> m = http.toBlocking().retrieve(HttpRequest.GET(inference.url() + "/v1/models/rec-a"), Map.class);
        if (good.getSha256().equals(m.get("sha256"))) {
          break;
        }
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        // not yet
      }
      Thread.sleep(300);
    }
    byte[] model = good.getCaffemodel().toByteArray();
    byte[] state = good.getSolverstate().toByteArray();
    Checkpoint badSum = good.toBuilder().setIteration(MAX_ITER + 1).setSha256("00" + good.getSha256().substring(2)).build();
    byte[] truncated = java.util.Arrays.copyOf(model, model.length / 2);
    Checkpoint badBytes = good.toBuilder().setIteration(MAX_ITER + 2).setCaffemodel(ByteString.copyFrom(truncated))
        .setSha256(sha(truncated, state)).build();
    NetParameter wide = Prototxt.parseNet(NET.replace("num_output: 256", "num_output: 300"), "wide");
    byte[] other;
    try (var s = crema.engine.Solver.create(Prototxt.parseSolver(SOLVER, "s").toBuilder().setNetParam(
        Prototxt.parseNet(NET.replace("num_output: 256", "num_output: 300").replace("backend: KAFKA", "backend: LMDB")
            .replace("Data\" top: \"data\" top: \"label\"", "Input\" top: \"data\" top: \"label\"")
            .replace("data_param { source: \"crema.datums.rec.train\" batch_size: 32 backend: LMDB }",
                "input_param { shape { dim: 1 dim: 64 dim: 1 dim: 1 } shape { dim: 1 } }"), "wide")).build())) {
      other = s.net().toProto(false).toByteArray();
    }
    Checkpoint badShapes = good.toBuilder().setIteration(MAX_ITER + 3).setCaffemodel(ByteString.copyFrom(other))
        .setSha256(sha(other, state)).build();
    Checkpoint marker = good.toBuilder().setModel("marker").build();
    KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    try (KafkaProducer<String, byte[]> p = clients.producer("test-corrupter")) {
      for (Checkpoint c : List.of(badSum, badBytes, badShapes, marker)) {
        p.send(new ProducerRecord<>(Topics.CHECKPOINTS, c.getModel(), c.toByteArray())).get();
      }
    }
    deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        http.toBlocking().retrieve(HttpRequest.GET(inference.url() + "/v1/models/marker"), Map.class);
        break;
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        Thread.sleep(300);
      }
    }
    Map<?, ?> m = http.toBlocking().retrieve(HttpRequest.GET(inference.url() + "/v1/models/rec-a"), Map.class);
    assertEquals(good.getSha256(), m.get("sha256"), "the good model keeps serving");
    assertEquals(MAX_ITER, ((Number) m.get("iteration")).intValue());
    String log = inference.log();
    assertTrue(log.contains("iteration " + (MAX_ITER + 1) + ": checksum mismatch"), log);
    assertTrue(log.contains("iteration " + (MAX_ITER + 2) + ":"), log);
    assertTrue(log.contains("iteration " + (MAX_ITER + 3) + ":") && log.contains("shape mismatch"), log);
    assertTrue(wide.getLayerCount() > 0);
  }

  @Test
  @Order(5)
  void aJobSentOnTheJobsTopicIsTrained() throws Exception {
    crema.proto.Job job = crema.proto.Job.newBuilder().setModel("rec-topic").setSolverPrototxt(SOLVER)
        .setNetPrototxt(NET).build();
    KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    try (KafkaProducer<String, byte[]> p = clients.producer("test-job-sender")) {
      p.send(new ProducerRecord<>(Topics.JOBS, job.getModel(), job.toByteArray())).get();
    }
    Checkpoint done = waitFor("rec-topic", MAX_ITER);
    assertArrayEquals(uninterrupted, done.getCaffemodel().toByteArray(), "the same job, the same weights");
  }

  static String sha(byte[] a, byte[] b) throws Exception {
    var d = java.security.MessageDigest.getInstance("SHA-256");
    d.update(a);
    d.update(b);
    return java.util.HexFormat.of().formatHex(d.digest());
  }
}
