package crema.benchmarks;

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
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Predict throughput with 1 and 2 inference replicas, measured in one run on one broker: HTTP
 * predicts (batch 1, closed-loop clients spread over the replicas, as a load balancer spreads
 * them) and Kafka requests on crema.predict-requests (a burst, timed until the last answer is on
 * crema.predictions). The model is the wide net 93-512-512-9. Run from the repository root after
 * packaging (benchmarks/replicas.sh); the table also lands in
 * benchmarks/target/results/replicas/table.txt.
 */
public final class ReplicaLoad {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final int HTTP_CLIENTS = 8;
  private static final int HTTP_SECONDS = 10;
  private static final int KAFKA_REQUESTS = 20_000;

  private ReplicaLoad() {}

  public static void main(String[] args) throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    Path work = Files.createDirectories(repo.resolve("benchmarks/target/results/replicas"));
    List<Process> replicas = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
      publishModel(clients);
      String body = body(new Random(2));
      List<String> lines = new ArrayList<>();
      lines.add("measured " + java.time.Instant.now() + " on " + Runtime.getRuntime().availableProcessors()
          + " cores (the broker, the replicas and this driver share them; a shared machine gives noisy figures)");
      lines.add(String.format("%-62s %12s %12s %8s", "predict, wide net 93-512-512-9, batch 1", "1 replica",
          "2 replicas", "2 / 1"));
      double[][] figures = new double[2][];
      for (int n = 1; n <= 2; n++) {
        String id = n == 1 ? "a" : "b";
        int port = freePort();
        replicas.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx1g", "-jar",
            repo.resolve("inference-service/target/crema-inference.jar").toString(), "-micronaut.server.port=" + port,
            "-kafka.bootstrap.servers=" + broker.bootstrapServers(), "-crema.inference.replica-id=" + id)
            .redirectErrorStream(true).redirectOutput(work.resolve("inference-" + id + ".log").toFile()).start());
        ports.add(port);
        awaitReady(port);
        awaitLog(work.resolve("inference-" + id + ".log"), "taking requests");
        // Every replica in the group with its partitions, and every replica warm, before measuring.
        Thread.sleep(3000);
        http(ports, body, 3);
        kafka(clients, "warm" + n + "-", 2000);
        figures[n - 1] = new double[] {http(ports, body, HTTP_SECONDS), kafka(clients, "run" + n + "-", KAFKA_REQUESTS)};
      }
      lines.add(String.format("%-62s %12.0f %12.0f %7.2fx", "HTTP, " + HTTP_CLIENTS
          + " closed-loop clients over the replicas (requests/s)", figures[0][0], figures[1][0],
          figures[1][0] / figures[0][0]));
      lines.add(String.format("%-62s %12.0f %12.0f %7.2fx", "Kafka, " + KAFKA_REQUESTS
          + " requests in a burst, to the last answer (requests/s)", figures[0][1], figures[1][1],
          figures[1][1] / figures[0][1]));
      lines.add("ratios: 2 replicas / 1 replica, both measured in this run.");
      Files.write(work.resolve("table.txt"), lines);
      lines.forEach(System.out::println);
    } finally {
      replicas.forEach(Process::destroy);
    }
  }

  /** One checkpoint of the wide net as model "wide". */
  private static void publishModel(KafkaClients clients) throws Exception {
    String layers = ReferenceNets.wideLayers();
    String deploy = TextFormat.printer().printToString(ReferenceNets.deploy(layers));
    try (Solver s = ReferenceNets.trainer(layers, 1);
        KafkaProducer<String, byte[]> p = clients.producer("bench-checkpoint")) {
      byte[] weights = s.net().toProto(false).toByteArray();
      Checkpoint c = Checkpoint.newBuilder().setModel("wide").setRun("bench").setIteration(1).setDeployPrototxt(deploy)
          .setCaffemodel(ByteString.copyFrom(weights)).setSolverstate(ByteString.EMPTY)
          .setSha256(CheckpointDigest.sha256(weights, new byte[0]))
          .addAllLabelNames(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8")).build();
      // As the trainer publishes it: in parts when over Kafka's default record limit.
      CheckpointLog.publish(p, Topics.CHECKPOINTS, c, CheckpointParts.DEFAULT_PART_BYTES);
    }
  }

  private static float[] row(Random r) {
    float[] x = new float[93];
    for (int j = 0; j < x.length; j++) {
      x[j] = r.nextInt(5) == 0 ? (float) Math.log1p(r.nextInt(20)) : 0;
    }
    return x;
  }

  private static String body(Random r) {
    StringBuilder b = new StringBuilder("{\"instances\":[[");
    float[] x = row(r);
    for (int j = 0; j < x.length; j++) {
      b.append(j == 0 ? "" : ",").append(x[j]);
    }
    return b.append("]]}").toString();
  }

  /** Requests/s of {@link #HTTP_CLIENTS} closed-loop clients, client i on replica i mod n. */
  private static double http(List<Integer> ports, String body, int seconds) throws Exception {
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    CountDownLatch finished = new CountDownLatch(HTTP_CLIENTS);
    long start = System.nanoTime();
    for (int t = 0; t < HTTP_CLIENTS; t++) {
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://localhost:" + ports.get(t % ports.size())
          + "/v1/models/wide:predict")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build();
      Thread th = new Thread(() -> {
        try {
          while (System.nanoTime() < end) {
            try {
              if (HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                done.incrementAndGet();
              } else {
                failed.incrementAndGet();
              }
            } catch (IOException e) {
              failed.incrementAndGet();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          finished.countDown();
        }
      });
      th.start();
    }
    finished.await();
    if (failed.get() > 0) {
      System.out.println("HTTP: " + failed.get() + " requests failed");
    }
    return done.get() / ((System.nanoTime() - start) / 1e9);
  }

  /** Requests/s: {@code count} requests sent at once, timed until the last one's answer is read. */
  private static double kafka(KafkaClients clients, String prefix, int count) throws Exception {
    try (KafkaConsumer<String, byte[]> c = clients.consumer("bench-answers");
        KafkaProducer<String, byte[]> p = clients.producer("bench-requests")) {
      List<TopicPartition> tps = c.partitionsFor(Topics.PREDICTIONS, Duration.ofSeconds(10)).stream()
          .map(i -> new TopicPartition(Topics.PREDICTIONS, i.partition())).toList();
      c.assign(tps);
      c.seekToEnd(tps);
      tps.forEach(c::position);
      Random r = new Random(3);
      List<byte[]> requests = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Row.Builder row = Row.newBuilder();
        for (float v : row(r)) {
          row.addValues(v);
        }
        requests.add(PredictRequest.newBuilder().setRequestId(prefix + i).setModel("wide").addRows(row).build()
            .toByteArray());
      }
      Set<String> answered = new HashSet<>();
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        p.send(new ProducerRecord<>(Topics.PREDICT_REQUESTS, prefix + i, requests.get(i)));
      }
      p.flush();
      long deadline = System.nanoTime() + 300_000_000_000L;
      while (answered.size() < count && System.nanoTime() < deadline) {
        for (var rec : c.poll(Duration.ofMillis(100))) {
          PredictResult res = PredictResult.parseFrom(rec.value());
          if (res.getRequestId().startsWith(prefix)) {
            if (!res.getError().isEmpty()) {
              throw new IllegalStateException("request " + res.getRequestId() + ": " + res.getError());
            }
            answered.add(res.getRequestId());
          }
        }
      }
      if (answered.size() < count) {
        throw new IllegalStateException(answered.size() + " of " + count + " requests answered in 300 s");
      }
      return count / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitReady(int port) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health/readiness")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the inference replica on port " + port + " never became ready");
  }

  private static void awaitLog(Path log, String text) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (Files.readString(log).contains(text)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(log + " never said '" + text + "'");
  }
}
