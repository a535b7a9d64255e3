package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.Topics;
import crema.proto.Checkpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline on a 3-broker cluster (topics on 3 replicas, min.insync.replicas 2, producers with
 * acks=all): one broker stopped hard in the middle of an ingest and restarted, then again in the
 * middle of a training run. No row is lost or doubled (the datums, counted by key, are exactly the
 * datums of an ingest without the failure, in the same order) and the run ends with the same
 * caffemodel bytes as a run of the same job without the failure.
 */
class BrokerFailureTest {
  static final int ROWS = 3000;
  static final int CHUNK = 100;
  static final int MAX_ITER = 1500;
  static final String NET = """
      layer { name: "data" type: "Data" top: "data" top: "label"
        data_param { source: "crema.datums.bf.train" batch_size: 64 backend: KAFKA } }
      layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
        inner_product_param { num_output: 256 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
      layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        inner_product_param { num_output: 256 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "relu2" type: "ReLU" bottom: "ip2" top: "ip2" }
      layer { name: "ip3" type: "InnerProduct" bottom: "ip2" top: "ip3"
        inner_product_param { num_output: 9 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip3" bottom: "label" top: "loss" }
      """;
  static final String SOLVER = "type: \"SGD\" base_lr: 0.01 momentum: 0.9 lr_policy: \"fixed\" display: 100"
      + " max_iter: " + MAX_ITER + " snapshot: 250 random_seed: 7\n";

  @TempDir
  static Path tmp;

  /** Otto-shaped rows: an id, 93 sparse counts, one of 9 classes. */
  static List<String> ottoRows() {
    Random r = new Random(12);
    List<String> rows = new ArrayList<>();
    for (int i = 1; i <= ROWS; i++) {
      int label = r.nextInt(9);
      StringBuilder line = new StringBuilder().append(i);
      for (int f = 0; f < 93; f++) {
        // Classes differ in which features they use, so training has something to learn.
        int v = r.nextInt(10) < 2 || f % 9 == label && r.nextBoolean() ? r.nextInt(12) : 0;
        line.append(',').append(v);
      }
      rows.add(line.append(",Class_").append(label + 1).toString());
    }
    return rows;
  }

  static String header() {
    StringBuilder h = new StringBuilder("id");
    for (int f = 1; f <= 93; f++) {
      h.append(",feat_").append(f);
    }
    return h.append(",target").toString();
  }

  @Test
  void aBrokerStoppedMidIngestAndMidTrainingLosesNothing() throws Exception {
    // Leadership moves 4 s after a broker stops answering (Kafka's default is 9 s).
    try (EmbeddedBroker cluster = EmbeddedBroker.startCluster(3, Map.of("broker.session.timeout.ms", "4000",
            "broker.heartbeat.interval.ms", "1000"));
        Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()));
        ServiceProcess ingest = new ServiceProcess("ingest", cluster.bootstrapServers(), tmp);
        ServiceProcess trainer = new ServiceProcess("trainer", cluster.bootstrapServers(), tmp)) {
      ingest.start();
      trainer.start();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      List<String> rows = ottoRows();

      // The same rows, in the same requests, twice: into "ref" with every broker up, into "bf"
      // with the leader of its partition stopped after a third of them and started after two thirds.
      for (int c = 0; c < ROWS / CHUNK; c++) {
        ingestChunk(http, ingest, "ref", rows, c);
      }
      int duringIngest = -1;
      for (int c = 0; c < ROWS / CHUNK; c++) {
        if (c == ROWS / CHUNK / 3) {
          duringIngest = leader(admin, Topics.datums("bf", "train"));
          cluster.stopNode(duringIngest);
        }
        if (c == 2 * ROWS / CHUNK / 3) {
          cluster.startNode(duringIngest);
        }
        ingestChunk(http, ingest, "bf", rows, c);
      }
      // Every topic the services created is on 3 replicas, 2 of them needed in sync for a write.
      for (String topic : List.of(Topics.datums("bf", "train"), Topics.CHECKPOINTS, Topics.JOBS, Topics.DATASETS,
          Topics.DEAD_LETTER, Topics.TRAIN_EVENTS)) {
        var d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        assertEquals(3, d.partitions().get(0).replicas().size(), topic);
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        assertEquals("2", admin.describeConfigs(List.of(r)).all().get().get(r).get("min.insync.replicas").value(), topic);
      }
      List<ConsumerRecord<String, byte[]>> ref = PipelineSupport.readAll(cluster, Topics.datums("ref", "train"));
      List<ConsumerRecord<String, byte[]>> bf = PipelineSupport.readAll(cluster, Topics.datums("bf", "train"));
      Map<String, Integer> byKey = new TreeMap<>();
      bf.forEach(r -> byKey.merge(r.key(), 1, Integer::sum));
      assertEquals(ROWS, byKey.size(), "every row is a datum");
      assertEquals(List.of(), byKey.entrySet().stream().filter(e -> e.getValue() != 1).toList(), "none twice");
      assertEquals(ROWS, ref.size());
      for (int i = 0; i < ROWS; i++) {
        assertEquals(ref.get(i).key(), bf.get(i).key(), "datum " + i + ": the same row in the same place");
        assertArrayEquals(ref.get(i).value(), bf.get(i).value(), "datum " + i + " (" + bf.get(i).key() + ")");
      }

      // The same job twice on "bf": uninterrupted, then with the checkpoints' leader stopped as
      // soon as the job is accepted and started again once the run has published two checkpoints.
      submit(http, trainer, "bf-ref");
      byte[] uninterrupted = waitFor(cluster, trainer, "bf-ref", MAX_ITER).getCaffemodel().toByteArray();
      submit(http, trainer, "bf-fail");
      int duringTraining = leader(admin, Topics.CHECKPOINTS);
      cluster.stopNode(duringTraining);
      int atStop = newest(cluster, "bf-fail").map(Checkpoint::getIteration).orElse(0);
      int whileDown = waitFor(cluster, trainer, "bf-fail", 500).getIteration();
      cluster.startNode(duringTraining);
      Checkpoint done = waitFor(cluster, trainer, "bf-fail", MAX_ITER);
      assertTrue(atStop < MAX_ITER && whileDown < MAX_ITER, "the broker stopped mid-run: the run was at "
          + atStop + " when it stopped, " + whileDown + " when it came back");
      assertArrayEquals(uninterrupted, done.getCaffemodel().toByteArray(),
          "the same rows in the same order through the failure: the uninterrupted run's weights");
      System.out.println("broker failure: " + ROWS + " rows ingested once each with node " + duringIngest
          + " down for a third of them; training from iteration " + atStop + " to " + whileDown + " with node "
          + duringTraining + " down ended byte-identical");
    }
  }

  static void ingestChunk(HttpClient http, ServiceProcess ingest, String dataset, List<String> rows, int chunk)
      throws Exception {
    String body = header() + "\n" + String.join("\n", rows.subList(chunk * CHUNK, (chunk + 1) * CHUNK)) + "\n";
    String labels = String.join(",", Arrays.stream(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9})
        .mapToObj(i -> "Class_" + i).toList());
    var r = http.send(HttpRequest.newBuilder(URI.create(ingest.url() + "/v1/datasets/" + dataset
            + "/rows?label=target&id=id&log1p=true&split=train&labels=" + labels))
        .timeout(Duration.ofSeconds(120)).header("Content-Type", "text/csv")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("\"accepted\":" + CHUNK), r.body());
  }

  static void submit(HttpClient http, ServiceProcess trainer, String model) throws Exception {
    String json = "{\"model\": " + quote(model) + ", \"solver\": " + quote(SOLVER) + ", \"net\": " + quote(NET) + "}";
    var r = http.send(HttpRequest.newBuilder(URI.create(trainer.url() + "/v1/jobs"))
        .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  /** The node that leads partition 0 of {@code topic}. */
  static int leader(Admin admin, String topic) throws Exception {
    return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).leader().id();
  }

  static Optional<Checkpoint> newest(EmbeddedBroker cluster, String model) throws Exception {
    Checkpoint best = null;
    for (Checkpoint c : PipelineSupport.checkpoints(cluster.bootstrapServers())) {
      if (c.getModel().equals(model) && (best == null || c.getIteration() >= best.getIteration())) {
        best = c;
      }
    }
    return Optional.ofNullable(best);
  }

  static Checkpoint waitFor(EmbeddedBroker cluster, ServiceProcess trainer, String model, int iteration)
      throws Exception {
    long deadline = System.currentTimeMillis() + 180_000;
    while (System.currentTimeMillis() < deadline) {
      Optional<Checkpoint> c = newest(cluster, model);
      if (c.isPresent() && c.get().getIteration() >= iteration) {
        return c.get();
      }
      Thread.sleep(200);
    }
    throw new AssertionError(model + " never reached iteration " + iteration + "\n" + trainer.log());
  }
}
