package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.client.CheckpointQuery;
import crema.client.CheckpointRecord;
import crema.client.CremaClient;
import crema.client.Subscription;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint of a 29.7M-parameter MLP (93-5400-5400-9, SGD with momentum: caffemodel and
 * solverstate ≈ 238 MB) on a broker, topics and clients all at Kafka's default record limits
 * (1 MiB), the services as their own processes: it goes out as parts plus a manifest, the trainer
 * SIGKILLed while publishing one leaves a torn write that no reader takes for a checkpoint, the
 * restarted trainer resumes from the previous one and ends byte-identical to an uninterrupted run,
 * inference serves the final one and answers predicts, and the client writes its Caffe files.
 */
class LargeCheckpointTest {
  static final String NET = """
      name: "WideOtto"
      layer { name: "data" type: "Data" top: "data" top: "label"
        data_param { source: "crema.datums.wide.train" batch_size: 16 backend: KAFKA } }
      layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
        inner_product_param { num_output: 5400 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
      layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        inner_product_param { num_output: 5400 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "relu2" type: "ReLU" bottom: "ip2" top: "ip2" }
      layer { name: "ip3" type: "InnerProduct" bottom: "ip2" top: "ip3"
        inner_product_param { num_output: 9 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip3" bottom: "label" top: "loss" }
      """;
  static final String SOLVER = """
      type: "SGD" base_lr: 0.001 momentum: 0.9 lr_policy: "fixed" weight_decay: 0.0005
      display: 4 max_iter: 8 snapshot: 4 random_seed: 5
      """;
  static final long PARAMS = 93L * 5400 + 5400 + 5400L * 5400 + 5400 + 5400L * 9 + 9;

  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static HttpClient http;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    // The trainer holds the net (weights, gradients, history: 360 MB) and one checkpoint being
    // written or read; inference two models while it swaps.
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).heap("2g").start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp).heap("4g").start();
    http = HttpClient.create(null);
    StringBuilder csv = new StringBuilder("id");
    for (int j = 1; j <= 93; j++) {
      csv.append(",feat_").append(j);
    }
    csv.append(",target\n");
    Random r = new Random(11);
    for (int i = 0; i < 160; i++) {
      int label = i % 9;
      csv.append(i);
      for (int j = 0; j < 93; j++) {
        csv.append(',').append(r.nextInt(4) == 0 ? r.nextInt(3 + label) : 0);
      }
      csv.append(",Class_").append(label + 1).append('\n');
    }
    Map<String, Object> ingested = PipelineSupport.post(ingest.url(),
        "/v1/datasets/wide/rows?label=target&id=id&log1p=true&split=train", csv.toString(), MediaType.of("text/csv"));
    assertEquals(160, ((Number) ingested.get("accepted")).intValue());
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

  /** A record of the checkpoint topic, parsed. */
  record At(long offset, Checkpoint record) {}

  /**
   * Follows the checkpoint topic from {@code from}: until a record matches (returned alone), or,
   * with {@code wanted} null, to the end the topic has now (every record returned).
   */
  static List<At> follow(long from, Predicate<Checkpoint> wanted, String what) throws Exception {
    KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    TopicPartition tp = new TopicPartition(Topics.CHECKPOINTS, 0);
    long deadline = System.currentTimeMillis() + 240_000;
    List<At> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = clients.consumer("test-follower")) {
      while (c.partitionsFor(Topics.CHECKPOINTS, Duration.ofSeconds(5)).isEmpty()) {
        Thread.sleep(100);
      }
      c.assign(List.of(tp));
      c.seek(tp, from);
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (System.currentTimeMillis() < deadline) {
        if (wanted == null && c.position(tp) >= end) {
          return out;
        }
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(50))) {
          Checkpoint cp = Checkpoint.parseFrom(r.value());
          if (wanted == null && r.offset() < end) {
            out.add(new At(r.offset(), cp));
          } else if (wanted != null && wanted.test(cp)) {
            return List.of(new At(r.offset(), cp));
          }
        }
      }
    }
    throw new AssertionError("no " + what + " on " + Topics.CHECKPOINTS + "\n" + trainer.log());
  }

  static At await(long from, Predicate<Checkpoint> wanted, String what) throws Exception {
    return follow(from, wanted, what).get(0);
  }

  static Predicate<Checkpoint> manifest(String model, int iteration) {
    return c -> c.hasManifest() && c.getModel().equals(model) && c.getIteration() == iteration;
  }

  /** The model's checkpoints, reassembled and verified by the client library. */
  static List<CheckpointRecord> checkpoints(String model) {
    List<CheckpointRecord> out = new ArrayList<>();
    try (CremaClient crema = CremaClient.builder().bootstrapServers(broker.bootstrapServers()).build();
        Subscription<CheckpointRecord> s = crema.checkpoints(CheckpointQuery.builder().model(model).build(),
            reason -> out.add(null))) {
      while (!s.isDone()) {
        CheckpointRecord c = s.next(Duration.ofSeconds(1));
        if (c != null) {
          out.add(c);
        }
      }
    }
    assertFalse(out.contains(null), "every checkpoint of " + model + " verifies");
    return out;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> awaitServed(String model, String sha256) throws Exception {
    long deadline = System.currentTimeMillis() + 180_000;
    Map<String, Object> served = Map.of();
    while (System.currentTimeMillis() < deadline) {
      try {
        served = http.toBlocking().retrieve(HttpRequest.GET(inference.url() + "/v1/models/" + model), Map.class);
        if (sha256.equals(served.get("sha256"))) {
          return served;
        }
      } catch (HttpClientResponseException e) {
        // not served yet
      }
      Thread.sleep(300);
    }
    throw new AssertionError(model + " not served from " + sha256 + ": " + served + "\n" + inference.log());
  }

  @Test
  void aCheckpointOf30MParametersTrainsResumesAndIsServedOnKafkasDefaultLimits() throws Exception {
    try (Admin admin = new KafkaClients(broker.bootstrapServers(), Map.of()).admin("test-admin")) {
      ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, "1");
      assertEquals("1048588", admin.describeConfigs(List.of(node)).all().get().get(node).get("message.max.bytes")
          .value(), "the broker is at Kafka's default record limit");
    }

    // An uninterrupted run.
    submit("wide-a");
    At aDone = await(0, manifest("wide-a", 8), "final manifest of wide-a");

    // The same job again, SIGKILLed while it publishes its final checkpoint's parts.
    submit("wide-b");
    At bFirst = await(aDone.offset() + 1, manifest("wide-b", 4), "wide-b's checkpoint at iteration 4");
    At torn = await(bFirst.offset() + 1, c -> c.hasPart() && c.getModel().equals("wide-b") && c.getIteration() == 8,
        "a part of wide-b's checkpoint at iteration 8");
    trainer.kill();
    List<At> afterKill = follow(torn.offset(), null, "");
    assertTrue(!afterKill.isEmpty() && afterKill.stream().allMatch(r -> r.record().hasPart()),
        "killed mid-publication: parts without their manifest on the topic (" + afterKill.size() + " records)");
    int partsPerCheckpoint = bFirst.record().getManifest().getPartsCount();
    assertTrue(afterKill.size() < partsPerCheckpoint, afterKill.size() + " of " + partsPerCheckpoint + " parts");
    long end = afterKill.get(afterKill.size() - 1).offset() + 1;
    afterKill.clear();

    trainer.start();
    await(end, manifest("wide-b", 8), "wide-b's final manifest after the restart");
    assertTrue(trainer.log().contains("wide-b: resuming from checkpoint at iteration 4"), trainer.log());

    List<CheckpointRecord> a = checkpoints("wide-a");
    List<CheckpointRecord> b = checkpoints("wide-b");
    assertEquals(List.of(4, 8), a.stream().map(CheckpointRecord::iteration).toList());
    assertEquals(List.of(4, 8), b.stream().map(CheckpointRecord::iteration).toList(), "the torn write is no checkpoint");
    CheckpointRecord finalA = a.get(1);
    CheckpointRecord finalB = b.get(1);
    long bytes = finalB.checkpoint().getCaffemodel().size() + finalB.checkpoint().getSolverstate().size();
    assertTrue(bytes > 8 * PARAMS, "weights and momentum history of " + PARAMS + " parameters: " + bytes + " bytes");
    assertTrue(finalB.size() > 200_000_000, "on the topic in parts: " + finalB.size() + " bytes");
    assertArrayEquals(finalA.checkpoint().getCaffemodel().toByteArray(), finalB.checkpoint().getCaffemodel().toByteArray(),
        "SIGKILLed mid-publication and resumed: final weights byte-identical to the uninterrupted run's");

    // Served: the final checkpoint, and its predictions.
    Map<String, Object> served = awaitServed("wide-b", finalB.sha256());
    assertEquals(8, ((Number) served.get("iteration")).intValue());
    List<List<Double>> rows = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<Double> row = new ArrayList<>();
      for (int j = 0; j < 93; j++) {
        row.add((double) ((i + j) % 3));
      }
      rows.add(row);
    }
    Map<String, Object> reply = PipelineSupport.post(inference.url(), "/v1/models/wide-b:predict",
        Map.of("instances", rows), MediaType.APPLICATION_JSON_TYPE);
    assertEquals(finalB.sha256(), reply.get("sha256"));
    List<?> predictions = (List<?>) reply.get("predictions");
    assertEquals(3, predictions.size());
    Map<?, ?> probabilities = (Map<?, ?>) ((Map<?, ?>) predictions.get(0)).get("probabilities");
    assertEquals(9, probabilities.size());
    assertEquals(1.0, probabilities.values().stream().mapToDouble(v -> ((Number) v).doubleValue()).sum(), 1e-4);
    String log = inference.log();
    assertTrue(log.contains("a torn write"), "the follower dropped the torn parts, saying so\n" + log);
    assertFalse(log.contains("rejected checkpoint"), log);
    // The index lists checkpoints by their manifests (the torn one not), each the size of the whole.
    java.net.http.HttpClient plain = java.net.http.HttpClient.newHttpClient();
    String listed = "";
    long deadline = System.currentTimeMillis() + 120_000;
    while (!listed.contains("\"iteration\":8") && System.currentTimeMillis() < deadline) {
      // 404 until the index has read the topic that far
      listed = plain.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(inference.url()
          + "/v1/models/wide-b/checkpoints")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      Thread.sleep(listed.contains("\"iteration\":8") ? 0 : 300);
    }
    assertEquals(2, listed.split("\"iteration\":").length - 1, listed);
    assertTrue(listed.indexOf("\"iteration\":4") < listed.indexOf("\"iteration\":8"), listed);
    assertTrue(listed.contains("\"size\":" + finalB.size() + ","), listed);

    // Written out as Caffe's files, which hash to the checkpoint's sha256.
    CheckpointRecord.SnapshotFiles files = finalB.writeTo(tmp.resolve("out"));
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update(Files.readAllBytes(files.caffemodel()));
    d.update(Files.readAllBytes(files.solverstate()));
    assertEquals(finalB.sha256(), HexFormat.of().formatHex(d.digest()));
    assertEquals(CheckpointParts.Kind.WHOLE, CheckpointParts.kind(finalB.checkpoint()));
  }
}
