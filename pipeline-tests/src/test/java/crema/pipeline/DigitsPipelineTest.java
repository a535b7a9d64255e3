package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.cli.Crema;
import crema.proto.Checkpoint;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline end to end on a real broker: the UCI digits go into ingest, the trainer trains on
 * their topics and publishes a checkpoint, and the inference service serves it.
 */
class DigitsPipelineTest {
  static final String NET = """
      name: "DigitsMLP"
      layer { name: "data" type: "Data" top: "data" top: "label"
        data_param { source: "crema.datums.digits.train" batch_size: 32 backend: KAFKA } }
      layer { name: "scale" type: "Power" bottom: "data" top: "data" power_param { scale: 0.0625 } }
      layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
        inner_product_param { num_output: 256 weight_filler { type: "msra" } bias_filler { type: "constant" } } }
      layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
      layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        inner_product_param { num_output: 128 weight_filler { type: "msra" } bias_filler { type: "constant" } } }
      layer { name: "relu2" type: "ReLU" bottom: "ip2" top: "ip2" }
      layer { name: "ip3" type: "InnerProduct" bottom: "ip2" top: "ip3"
        inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip3" bottom: "label" top: "loss" }
      """;
  static final String SOLVER = """
      type: "Adam" base_lr: 0.001 momentum: 0.9 momentum2: 0.999 lr_policy: "fixed"
      weight_decay: 0.0001 display: 500 max_iter: 4000 snapshot: 2000 random_seed: 0
      """;

  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static HttpClient http;

  @TempDir
  static Path tmp;

  static String url(ServiceProcess s) {
    return s.url();
  }

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp).start();
    http = HttpClient.create(null);
  }

  @AfterAll
  static void stop() throws Exception {
    Files.writeString(Path.of("target/digits-trainer.log"), trainer.log());
    Files.writeString(Path.of("target/digits-inference.log"), inference.log());
    Files.writeString(Path.of("target/digits-ingest.log"), ingest.log());
    http.close();
    inference.close();
    trainer.close();
    ingest.close();
    broker.close();
  }

  static String digitsCsv() throws Exception {
    return PipelineSupport.digitsCsv();
  }

  static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    return PipelineSupport.readAll(broker, topic);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> post(String base, String path, Object body, MediaType type) {
    return PipelineSupport.post(base, path, body, type);
  }

  @Test
  void digitsThroughIngestTrainerAndInference() throws Exception {
    String csv = digitsCsv();
    Map<String, Object> ingested = post(url(ingest), "/v1/datasets/digits/rows?label=digit&test_fraction=0.2&seed=0",
        csv, MediaType.of("text/csv"));
    assertEquals(1797, ((Number) ingested.get("accepted")).intValue(), ingested.toString());
    assertEquals(0, ((Number) ingested.get("rejected")).intValue());

    Map<String, Object> job = post(url(trainer), "/v1/jobs", Map.of("model", "digits", "solver", SOLVER, "net", NET,
        "labels", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), MediaType.APPLICATION_JSON_TYPE);
    String id = (String) job.get("id");
    long deadline = System.currentTimeMillis() + 300_000;
    Map<String, Object> served = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        served = http.toBlocking().retrieve(HttpRequest.GET(url(inference) + "/v1/models/digits"), Map.class);
        if (((Number) served.get("iteration")).intValue() == 4000) {
          break;
        }
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        assertEquals(404, e.getStatus().getCode());
      }
      Thread.sleep(500);
    }
    assertEquals(4000, ((Number) served.get("iteration")).intValue(), "the final checkpoint is served");
    Map<String, Object> jobNow = http.toBlocking().retrieve(HttpRequest.GET(url(trainer) + "/v1/jobs/" + id), Map.class);
    assertEquals("FINISHED", jobNow.get("state"));

    // Score the served model on the test split the ingest service wrote.
    List<ConsumerRecord<String, byte[]>> test = readAll(Topics.datums("digits", "test"));
    assertEquals(((Number) ((Map<?, ?>) ingested.get("perSplit")).get("test")).intValue(), test.size());
    List<List<Double>> instances = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    StringBuilder testCsv = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      testCsv.append(i == 0 ? "" : ",").append('p').append(i);
    }
    testCsv.append(",digit\n");
    for (var r : test) {
      Datum d = Datum.parseFrom(r.value());
      List<Double> row = new ArrayList<>();
      for (int j = 0; j < d.getFloatDataCount(); j++) {
        row.add((double) d.getFloatData(j));
        testCsv.append(j == 0 ? "" : ",").append((int) d.getFloatData(j));
      }
      testCsv.append(',').append(d.getLabel()).append('\n');
      instances.add(row);
      labels.add(d.getLabel());
    }
    Map<String, Object> reply = post(url(inference), "/v1/models/digits:predict", Map.of("instances", instances),
        MediaType.APPLICATION_JSON_TYPE);
    List<Map<String, Object>> preds = (List<Map<String, Object>>) reply.get("predictions");
    int right = 0;
    for (int i = 0; i < preds.size(); i++) {
      right += Integer.parseInt((String) preds.get(i).get("label")) == labels.get(i) ? 1 : 0;
    }
    double accuracy = (double) right / preds.size();
    System.out.println("served digits model: test accuracy " + accuracy + " on " + preds.size() + " rows");
    assertTrue(accuracy >= 0.975, "accuracy " + accuracy);

    // Kafka clients get the same answers through crema.predict-requests -> crema.predictions.
    crema.proto.PredictRequest.Builder kreq = crema.proto.PredictRequest.newBuilder().setRequestId("r1").setModel("digits");
    for (List<Double> row : instances.subList(0, 5)) {
      crema.proto.Row.Builder rb = crema.proto.Row.newBuilder();
      row.forEach(v -> rb.addValues(v.floatValue()));
      kreq.addRows(rb);
    }
    KafkaClients kc = new KafkaClients(broker.bootstrapServers(), Map.of());
    try (var producer = kc.producer("test-requester")) {
      producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.PREDICT_REQUESTS, "r1",
          kreq.build().toByteArray())).get();
    }
    crema.proto.PredictResult kres = null;
    long kdeadline = System.currentTimeMillis() + 60_000;
    while (kres == null && System.currentTimeMillis() < kdeadline) {
      try {
        for (var r : readAll(Topics.PREDICTIONS)) {
          kres = crema.proto.PredictResult.parseFrom(r.value());
        }
      } catch (RuntimeException e) {
        // the topic does not exist yet
      }
      Thread.sleep(300);
    }
    assertEquals("r1", kres.getRequestId(), "answered on crema.predictions");
    assertEquals("", kres.getError());
    for (int i = 0; i < 5; i++) {
      assertEquals(preds.get(i).get("label"), kres.getPredictions(i).getTopLabel());
    }

    // The same checkpoint's weights through `crema predict` give the same probabilities.
    Checkpoint newest = null;
    for (Checkpoint c : PipelineSupport.checkpoints(broker.bootstrapServers())) {
      if (c.getModel().equals("digits")) {
        newest = c;
      }
    }
    assertEquals(served.get("sha256"), newest.getSha256());
    Files.writeString(tmp.resolve("deploy.prototxt"), newest.getDeployPrototxt());
    Files.write(tmp.resolve("w.caffemodel"), newest.getCaffemodel().toByteArray());
    Files.writeString(tmp.resolve("test.csv"), testCsv);
    Files.writeString(tmp.resolve("labels.txt"), "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
    int rc = Crema.run("predict", "-model", tmp.resolve("deploy.prototxt").toString(), "-weights",
        tmp.resolve("w.caffemodel").toString(), "-input", tmp.resolve("test.csv").toString(), "-output",
        tmp.resolve("out.csv").toString(), "--label-column", "digit", "--labels", tmp.resolve("labels.txt").toString());
    assertEquals(0, rc);
    List<String> cli = Files.readAllLines(tmp.resolve("out.csv"));
    assertEquals(preds.size() + 1, cli.size());
    for (int i = 0; i < preds.size(); i++) {
      String[] f = cli.get(i + 1).split(",");
      Map<String, Number> p = (Map<String, Number>) preds.get(i).get("probabilities");
      for (int c = 0; c < 10; c++) {
        assertEquals(Double.parseDouble(f[c + 1]), p.get(Integer.toString(c)).doubleValue(), 1e-6,
            "row " + i + " class " + c);
      }
    }
  }
}
