package crema.benchmarks;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.proto.Checkpoint;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The pipeline's load driver: on a real broker, with the services as their own processes, it
 * measures ingest rows/s against Kafka's own producer (same record size, same broker, same
 * settings), /predict latency and throughput at fixed concurrency, and the time from a
 * checkpoint's publication to its being served. Run from the repository root after packaging.
 */
public final class PipelineLoad {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private PipelineLoad() {}

  public static void main(String[] args) throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    Path work = Files.createDirectories(repo.resolve("benchmarks/target/results/pipeline"));
    List<Process> services = new ArrayList<>();
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      int[] ports = {18081, 18082, 18083};
      String[] names = {"ingest", "trainer", "inference"};
      for (int i = 0; i < 3; i++) {
        services.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "-jar",
            repo.resolve(names[i] + "-service/target/crema-" + names[i] + ".jar").toString(),
            "-micronaut.server.port=" + ports[i], "-kafka.bootstrap.servers=" + broker.bootstrapServers())
            .redirectErrorStream(true).redirectOutput(work.resolve(names[i] + ".log").toFile()).start());
      }
      for (int p : ports) {
        await("http://localhost:" + p + "/health/liveness");
      }
      // Ingest: the Otto-shaped training file, one request.
      Path otto = work.resolve("otto");
      if (!Files.exists(otto.resolve("train.csv"))) {
        new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            repo.resolve("examples/otto/GenerateOtto.java").toString(), "61878", "1000", "1", otto.toString())
            .inheritIO().start().waitFor();
      }
      long t0 = System.nanoTime();
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18081/v1/datasets/otto/rows"
          + "?label=target&id=id&log1p=true&split=train")).header("Content-Type", "text/csv")
          .POST(HttpRequest.BodyPublishers.ofFile(otto.resolve("train.csv"))).build(), HttpResponse.BodyHandlers.ofString());
      double ingestSeconds = (System.nanoTime() - t0) / 1e9;
      if (r.statusCode() != 200) {
        throw new IllegalStateException("ingest failed: " + r.body());
      }
      double ingestRate = 61878 / ingestSeconds;
      // Reference: Kafka's own producer, 61,878 records of a Datum's size (473 bytes), same settings.
      KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
      byte[] value = new byte[473];
      new Random(1).nextBytes(value);
      double producerRate;
      try (KafkaProducer<String, byte[]> p = clients.producer("reference")) {
        p.send(new ProducerRecord<>("reference", "warm", value)).get();
        long s = System.nanoTime();
        for (int i = 0; i < 61878; i++) {
          p.send(new ProducerRecord<>("reference", Integer.toString(i), value));
        }
        p.flush();
        producerRate = 61878 / ((System.nanoTime() - s) / 1e9);
      }
      // A model: the seed net, 3 checkpoints.
      String net = Files.readString(repo.resolve("examples/otto/otto_kafka_train_test.prototxt"))
          .replaceAll("(?s)layer \\{\\s*name: \"data\"\\s*type: \"Data\"\\s*top: \"data\"\\s*top: \"label\"\\s*include \\{ phase: TEST \\}.*?\\n\\}\\n", "")
          .replaceAll("(?s)layer \\{\\s*name: \"accuracy\".*?\\n\\}\\n", "");
      String solver = "base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: \"inv\" gamma: 0.0001 power: 0.75"
          + " display: 1000 max_iter: 3000 snapshot: 1000 random_seed: 1";
      String job = "{\"model\":\"otto\",\"solver\":\"" + solver.replace("\"", "\\\"") + "\",\"net\":\""
          + net.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"}";
      HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18082/v1/jobs")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(job)).build(), HttpResponse.BodyHandlers.ofString());
      List<Long> servedDelays = checkpointToServed(clients, 3000);
      // Predict load.
      StringBuilder one = new StringBuilder("{\"instances\":[");
      StringBuilder many = new StringBuilder("{\"instances\":[");
      Random rnd = new Random(2);
      for (int i = 0; i < 256; i++) {
        StringBuilder row = new StringBuilder("[");
        for (int j = 0; j < 93; j++) {
          row.append(j == 0 ? "" : ",").append(rnd.nextInt(5) == 0 ? Math.log1p(rnd.nextInt(20)) : 0);
        }
        row.append(']');
        if (i == 0) {
          one.append(row);
        }
        many.append(i == 0 ? "" : ",").append(row);
      }
      one.append("]}");
      many.append("]}");
      List<String> lines = new ArrayList<>();
      lines.add(String.format("%-52s %14s", "pipeline benchmark", "value"));
      lines.add(String.format("%-52s %14.0f", "ingest, 61,878 Otto rows in one request (rows/s)", ingestRate));
      lines.add(String.format("%-52s %14.0f", "Kafka producer, same records and broker (records/s)", producerRate));
      lines.add(String.format("%-52s %14.2f", "ingest / producer", ingestRate / producerRate));
      for (int c : new int[] {1, 4, 16}) {
        double[] s = load(one.toString(), c, 10);
        lines.add(String.format("%-52s %14s", "predict batch 1, " + c + " concurrent: p50 / p99 (ms)",
            String.format("%.2f / %.2f", s[0], s[1])));
        lines.add(String.format("%-52s %14.0f", "predict batch 1, " + c + " concurrent (requests/s)", s[2]));
      }
      for (int c : new int[] {1, 4}) {
        double[] s = load(many.toString(), c, 10);
        lines.add(String.format("%-52s %14.0f", "predict batch 256, " + c + " concurrent (rows/s)", s[2] * 256));
      }
      Collections.sort(servedDelays);
      lines.add(String.format("%-52s %14s", "checkpoint published -> served (ms, each)", servedDelays.toString()));
      Files.write(work.resolve("table.txt"), lines);
      lines.forEach(System.out::println);
    } finally {
      services.forEach(Process::destroy);
    }
  }

  private static void await(String url) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() < 400) {
          return;
        }
      } catch (IOException e) {
        // not yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(url + " not up");
  }

  /** For each checkpoint of the run, loadedAtMs (served) − createdMs (published). */
  private static List<Long> checkpointToServed(KafkaClients clients, int last) throws Exception {
    List<Long> delays = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 600_000;
    String seenSha = "";
    try (var c = clients.consumer("bench-checkpoints")) {
      TopicPartition tp = new TopicPartition("crema.checkpoints", 0);
      while (c.partitionsFor("crema.checkpoints", Duration.ofSeconds(5)).isEmpty()) {
        Thread.sleep(200);
      }
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      int lastSeen = 0;
      while (lastSeen < last && System.currentTimeMillis() < deadline) {
        for (var r : c.poll(Duration.ofMillis(100))) {
          Checkpoint cp = Checkpoint.parseFrom(r.value());
          lastSeen = cp.getIteration();
          long deadlineServe = System.currentTimeMillis() + 60_000;
          while (System.currentTimeMillis() < deadlineServe) {
            HttpResponse<String> m = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:18083/v1/models/otto")).build(),
                HttpResponse.BodyHandlers.ofString());
            if (Files.readString(Path.of("benchmarks/target/results/pipeline/inference.log"))
                .contains("rejected checkpoint for otto: checkpoint at iteration " + cp.getIteration() + ":")) {
              throw new IllegalStateException("inference rejected checkpoint " + cp.getIteration());
            }
            if (m.statusCode() == 200 && Integer.parseInt(m.body().replaceAll(".*\"iteration\":(\\d+).*", "$1"))
                > cp.getIteration()) {
              break;
            }
            if (m.statusCode() == 200 && m.body().contains(cp.getSha256())) {
              long loaded = Long.parseLong(m.body().replaceAll(".*\"loadedAtMs\":(\\d+).*", "$1"));
              delays.add(loaded - cp.getCreatedMs());
              break;
            }
            Thread.sleep(5);
          }
        }
      }
    }
    return delays;
  }

  /** p50 ms, p99 ms, requests/s over {@code seconds} with {@code concurrency} closed-loop clients. */
  private static double[] load(String body, int concurrency, int seconds) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://localhost:18083/v1/models/otto:predict"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    for (int i = 0; i < 200; i++) {
      HTTP.send(req, HttpResponse.BodyHandlers.discarding());
    }
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    AtomicLong errors = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    CountDownLatch done = new CountDownLatch(concurrency);
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      pool.submit(() -> {
        try {
          while (System.nanoTime() < end) {
            long s = System.nanoTime();
            HttpResponse<Void> r = HTTP.send(req, HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() != 200) {
              errors.incrementAndGet();
            }
            latencies.add(System.nanoTime() - s);
          }
        } catch (Exception e) {
          errors.incrementAndGet();
        } finally {
          done.countDown();
        }
      });
    }
    done.await();
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    if (errors.get() > 0) {
      throw new IllegalStateException(errors.get() + " failed requests");
    }
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    return new double[] {sorted.get(sorted.size() / 2) / 1e6, sorted.get((int) (sorted.size() * 0.99)) / 1e6,
        sorted.size() / elapsed};
  }
}
