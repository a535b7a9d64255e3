package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import crema.bus.CheckpointDigest;
import crema.bus.CheckpointLog;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.Solver;
import crema.engine.check.ReferenceNets;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import crema.proto.PredictRequest;
import crema.proto.PredictResult;
import crema.proto.Row;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two inference replicas under load, on crema.predict-requests and over HTTP to both; one is
 * SIGKILLed and restarted. Every Kafka request is answered exactly once on crema.predictions, every
 * HTTP request is answered (one to the killed replica goes to the live one, as a load balancer
 * sends it), and nothing is answered "no model is served": the restarted replica takes no request
 * before the models on the checkpoints topic are loaded again.
 */
class InferenceFailoverTest {
  static final String LAYERS = ReferenceNets.wideLayers();
  static final int MODELS = 5;

  @TempDir
  static Path tmp;

  /** Two checkpoints of each model (1.3 MB of weights each): a restarted replica has ten to load. */
  static void publishModels(KafkaClients clients) throws Exception {
    String deploy = TextFormat.printer().printToString(ReferenceNets.deploy(LAYERS));
    List<String> labels = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8");
    try (Solver s = ReferenceNets.trainer(LAYERS, 1);
        KafkaProducer<String, byte[]> p = clients.producer("test-checkpoints")) {
      for (int iteration = 1; iteration <= 2; iteration++) {
        s.step(1);
        byte[] weights = s.net().toProto(false).toByteArray();
        for (int m = 0; m < MODELS; m++) {
          Checkpoint c = Checkpoint.newBuilder().setModel("m" + m).setRun("run-m" + m).setIteration(iteration)
              .setDeployPrototxt(deploy).setCaffemodel(ByteString.copyFrom(weights)).setSolverstate(ByteString.EMPTY)
              .setSha256(CheckpointDigest.sha256(weights, new byte[0])).addAllLabelNames(labels).build();
          // 1.3 MB: over Kafka's default record limit, so in parts, as the trainer publishes it.
          CheckpointLog.publish(p, Topics.CHECKPOINTS, c, CheckpointParts.DEFAULT_PART_BYTES);
        }
      }
    }
  }

  static float[] row(Random r) {
    float[] x = new float[93];
    for (int j = 0; j < x.length; j++) {
      x[j] = r.nextFloat() < 0.8f ? 0 : r.nextInt(20);
    }
    return x;
  }

  static void awaitReady(ServiceProcess s, HttpClient http) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      var r = http.send(HttpRequest.newBuilder(URI.create(s.url() + "/health/readiness")).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(s.name + " never ready:\n" + s.log());
  }

  @Test
  void aReplicaKilledUnderLoadLosesAndRepeatsNoRequest() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
      publishModels(clients);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      try (ServiceProcess a = new ServiceProcess("inference", broker.bootstrapServers(),
              Files.createDirectories(tmp.resolve("a")), "-crema.inference.replica-id=a");
          ServiceProcess b = new ServiceProcess("inference", broker.bootstrapServers(),
              Files.createDirectories(tmp.resolve("b")), "-crema.inference.replica-id=b")) {
        a.start();
        b.start();
        awaitReady(a, http);
        awaitReady(b, http);

        AtomicBoolean sending = new AtomicBoolean(true);
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> kafkaSent = new ConcurrentHashMap<>();
        AtomicInteger httpAnswered = new AtomicInteger();
        AtomicInteger httpToB = new AtomicInteger();
        AtomicInteger httpRerouted = new AtomicInteger();

        // Kafka clients: one request every 5 ms, for each model in turn.
        Thread kafkaLoad = new Thread(() -> {
          Random r = new Random(1);
          try (KafkaProducer<String, byte[]> p = clients.producer("test-requests")) {
            for (int i = 0; sending.get(); i++) {
              String id = "req-" + i;
              Row.Builder row = Row.newBuilder().setId(id);
              for (float v : row(r)) {
                row.addValues(v);
              }
              PredictRequest req = PredictRequest.newBuilder().setRequestId(id).setModel("m" + i % MODELS)
                  .addRows(row).build();
              p.send(new ProducerRecord<>(Topics.PREDICT_REQUESTS, id, req.toByteArray()));
              kafkaSent.put(id, i % MODELS);
              Thread.sleep(5);
            }
            p.flush();
          } catch (Exception e) {
            failures.add("kafka load: " + e);
          }
        }, "kafka-load");

        // HTTP clients, one per replica; a request the replica cannot take (refused while it is
        // down, 503 while it loads) goes to the other, as a load balancer retries it.
        List<Thread> httpLoad = new ArrayList<>();
        for (ServiceProcess target : List.of(a, b)) {
          httpLoad.add(new Thread(() -> {
            Random r = new Random(target == a ? 2 : 3);
            for (int i = 0; sending.get(); i++) {
              String model = "m" + i % MODELS;
              StringBuilder body = new StringBuilder("{\"instances\": [[");
              float[] x = row(r);
              for (int j = 0; j < x.length; j++) {
                body.append(j == 0 ? "" : ",").append(x[j]);
              }
              body.append("]]}");
              HttpResponse<String> resp = null;
              try {
                resp = predictPastClientRace(http, target, model, body.toString());
                if (target == b) {
                  httpToB.incrementAndGet();
                }
              } catch (IOException e) {
                if (target == a) {
                  failures.add("the live replica did not answer: " + e);
                }
              } catch (InterruptedException e) {
                return;
              }
              try {
                if (resp == null || (target == b && resp.statusCode() == 503)) {
                  httpRerouted.incrementAndGet();
                  resp = predictPastClientRace(http, a, model, body.toString());
                }
              } catch (Exception e) {
                failures.add("the live replica did not answer a rerouted request: " + e);
                continue;
              }
              if (resp.statusCode() != 200 || !resp.body().contains("\"probabilities\"")) {
                failures.add(model + " over HTTP: " + resp.statusCode() + " " + resp.body());
              } else {
                httpAnswered.incrementAndGet();
              }
            }
          }, "http-load-" + (target == a ? "a" : "b")));
        }
        kafkaLoad.start();
        httpLoad.forEach(Thread::start);

        Thread.sleep(3000);
        b.kill();
        int sentAtKill = kafkaSent.size();
        Thread.sleep(1000);
        b.start();
        awaitReady(b, http);
        Thread.sleep(3000);
        sending.set(false);
        kafkaLoad.join();
        for (Thread t : httpLoad) {
          t.join();
        }

        // Every request answered: wait for the last ones, then count the answers by request id.
        Map<String, Integer> answers = new java.util.HashMap<>();
        List<String> errors = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 90_000;
        while (System.currentTimeMillis() < deadline) {
          answers.clear();
          errors.clear();
          for (var rec : PipelineSupport.readAll(broker, Topics.PREDICTIONS)) {
            PredictResult res = PredictResult.parseFrom(rec.value());
            answers.merge(res.getRequestId(), 1, Integer::sum);
            if (!res.getError().isEmpty()) {
              errors.add(res.getRequestId() + ": " + res.getError());
            }
          }
          if (answers.keySet().containsAll(kafkaSent.keySet())) {
            break;
          }
          Thread.sleep(500);
        }
        String logs = "\n--- a ---\n" + a.log() + "\n--- b ---\n" + b.log();
        assertEquals(List.of(), failures, "every HTTP request answered by a replica that serves its model" + logs);
        assertEquals(List.of(), errors, "no Kafka request answered with an error" + logs);
        List<String> missing = kafkaSent.keySet().stream().filter(id -> !answers.containsKey(id)).sorted().toList();
        assertEquals(List.of(), missing, "every Kafka request answered" + logs);
        Map<String, Integer> twice = new java.util.TreeMap<>();
        answers.forEach((id, n) -> {
          if (n != 1) {
            twice.put(id, n);
          }
        });
        assertEquals(Map.of(), twice, "no Kafka request answered twice" + logs);
        assertEquals(kafkaSent.size(), answers.size(), "no answer to a request never sent");
        assertTrue(sentAtKill > 100 && kafkaSent.size() > sentAtKill + 100,
            "requests before and after the kill: " + sentAtKill + " then " + kafkaSent.size());
        assertTrue(httpToB.get() > 0 && httpAnswered.get() > 200, "HTTP load on both replicas: " + httpAnswered
            + " answered, " + httpToB + " by b, " + httpRerouted + " rerouted");

        // The restarted replica loaded every model before it joined the group.
        String bLog = b.log();
        int restart = bLog.lastIndexOf("caught up on crema.checkpoints");
        assertTrue(restart > 0 && bLog.indexOf("caught up on crema.checkpoints") < restart, "b started twice" + logs);
        assertTrue(bLog.substring(restart).startsWith("caught up on crema.checkpoints: " + MODELS + " model(s) served"),
            bLog.substring(restart));
        int joined = bLog.indexOf("taking requests on crema.predict-requests", restart);
        assertTrue(joined > restart, "b took requests only after its models were back" + logs);
        System.out.println("inference failover: " + kafkaSent.size() + " Kafka requests (" + sentAtKill
            + " before the kill), each answered once; " + httpAnswered + " HTTP requests answered, " + httpRerouted
            + " of them rerouted from b");
      }
    }
  }

  /**
   * {@link #predict}, sent once more when JDK 17's HttpClient closed the connection itself: its pool
   * can hand a connection to a new request while a clean-up reader is still subscribed to it, and
   * when the reply comes back fast that reader takes it for stray data and closes the connection
   * ("connection closed locally" in the client's log, "header parser received no bytes" to the
   * caller; JDK 25 guards against it). The server answered; the client dropped the answer. About 1
   * request in 10,000 at a few concurrent clients meets it against the event-loop predict path. Any
   * other failure, or the same one twice, still fails the test.
   */
  static HttpResponse<String> predictPastClientRace(HttpClient http, ServiceProcess s, String model,
      String body) throws IOException, InterruptedException {
    try {
      return predict(http, s, model, body);
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("header parser received no bytes")) {
        return predict(http, s, model, body);
      }
      throw e;
    }
  }

  static HttpResponse<String> predict(HttpClient http, ServiceProcess s, String model, String body)
      throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/models/" + model + ":predict"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
