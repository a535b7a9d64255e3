package crema.benchmarks;

import caffe.Caffe.BlobProto;
import caffe.Caffe.BlobShape;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverState;
import com.google.protobuf.UnsafeByteOperations;
import crema.bus.CheckpointLog;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicSetup;
import crema.bus.TopicsConfig;
import crema.bus.Topics;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Checkpoint published -> served, on a broker at Kafka's default limits with the inference
 * service as its own process: a 1 MB checkpoint (one record) and a 240 MB one (a 29.7M-parameter
 * MLP with its SGD history: ~470 parts plus a manifest), each published as the trainer publishes
 * it and timed until the service's model reports its sha256. The reference, measured in the same
 * run on the same broker: the same number of bytes in records of the part size through Kafka's
 * own producer and a consumer, no codec, no model. Run from the repository root after packaging
 * (benchmarks/checkpoints.sh).
 */
public final class CheckpointTransfer {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final int REPEATS = 3;

  private CheckpointTransfer() {}

  public static void main(String[] args) throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    Path work = Files.createDirectories(repo.resolve("benchmarks/target/results/checkpoints"));
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Process inference = null;
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
      new TopicSetup(clients, new TopicsConfig()).ensure(List.of(TopicKind.CHECKPOINTS.spec()));
      inference = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx4g", "-jar",
          repo.resolve("inference-service/target/crema-inference.jar").toString(), "-micronaut.server.port=" + port,
          "-kafka.bootstrap.servers=" + broker.bootstrapServers())
          .redirectErrorStream(true).redirectOutput(work.resolve("inference.log").toFile()).start();
      await("http://localhost:" + port + "/health/liveness");
      List<String> lines = new ArrayList<>();
      lines.add("measured " + java.time.Instant.now() + " on " + Runtime.getRuntime().availableProcessors()
          + " cores (a shared machine gives noisy figures); broker, topic and clients at Kafka's default limits;"
          + " part size " + CheckpointParts.DEFAULT_PART_BYTES + " bytes; median of " + REPEATS);
      lines.add(String.format("%-64s %16s", "checkpoint benchmark", "value"));
      try (KafkaProducer<String, byte[]> p = clients.producer("bench-checkpoints")) {
        // Warm-up: the service's and this JVM's code paths, once each.
        measure(clients, p, port, "warmup", 1300, 1);
        for (int[] size : new int[][] {{1300, 0}, {5400, 5400}}) {
          String model = size[1] == 0 ? "ckpt-1mb" : "ckpt-240mb";
          List<Double> served = new ArrayList<>();
          List<Double> published = new ArrayList<>();
          long bytes = 0;
          for (int i = 1; i <= REPEATS; i++) {
            double[] t = measure(clients, p, port, model, size[0], i + (size[1] == 0 ? 0 : size[1]));
            published.add(t[0]);
            served.add(t[1]);
            bytes = (long) t[2];
          }
          String label = String.format("%.1f MB", bytes / 1e6);
          double raw = median(rawTransfer(clients, bytes));
          double s = median(served);
          lines.add(String.format("%-64s %16.0f", "checkpoint " + label + " (" + (bytes <= CheckpointParts.DEFAULT_PART_BYTES
              ? "1 record" : (bytes + CheckpointParts.DEFAULT_PART_BYTES - 1) / CheckpointParts.DEFAULT_PART_BYTES
              + " parts + manifest") + "): published, acked (ms)", median(published)));
          lines.add(String.format("%-64s %16.0f", "checkpoint " + label + ": published -> served (ms)", s));
          lines.add(String.format("%-64s %16.0f", "Kafka producer -> consumer, same bytes, 512 KiB records (ms)", raw));
          lines.add(String.format("%-64s %16.1f", "served / raw transfer (both measured in this run)", s / raw));
        }
      }
      Files.write(work.resolve("table.txt"), lines);
      lines.forEach(System.out::println);
    } finally {
      if (inference != null) {
        inference.destroy();
      }
    }
  }

  /**
   * Publishes a checkpoint of a 93-{@code hidden1}[-{@code hidden2}]-9 MLP (weights seeded by
   * {@code seed}) and returns ms until acknowledged, ms until the service serves it, and its size.
   */
  private static double[] measure(KafkaClients clients, KafkaProducer<String, byte[]> p, int port, String model,
      int hidden1, int seed) throws Exception {
    Checkpoint c = checkpoint(model, seed, hidden1, hidden1 == 5400 ? 5400 : 0);
    long start = System.nanoTime();
    CheckpointLog.publish(p, Topics.CHECKPOINTS, c.toBuilder().setCreatedMs(System.currentTimeMillis()).build(),
        CheckpointParts.DEFAULT_PART_BYTES);
    double acked = (System.nanoTime() - start) / 1e6;
    HttpRequest get = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/models/" + model)).build();
    long deadline = System.currentTimeMillis() + 300_000;
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> r = HTTP.send(get, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains(c.getSha256())) {
        return new double[] {acked, (System.nanoTime() - start) / 1e6, c.getSerializedSize()};
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException(model + " " + seed + " was not served within 300 s");
  }

  /** ms to produce {@code bytes} in part-sized records and consume them all, {@link #REPEATS} times. */
  private static List<Double> rawTransfer(KafkaClients clients, long bytes) throws Exception {
    List<Double> out = new ArrayList<>();
    byte[] value = new byte[CheckpointParts.DEFAULT_PART_BYTES];
    new Random(1).nextBytes(value);
    int records = (int) ((bytes + value.length - 1) / value.length);
    for (int i = 0; i < REPEATS; i++) {
      String topic = "bench.raw." + bytes + "." + i;
      new TopicSetup(clients, new TopicsConfig()).ensure(List.of(TopicKind.CHECKPOINTS.named(topic)));
      TopicPartition tp = new TopicPartition(topic, 0);
      try (KafkaProducer<String, byte[]> p = clients.producer("bench-raw");
          KafkaConsumer<String, byte[]> c = clients.consumer("bench-raw")) {
        c.assign(List.of(tp));
        c.seekToEnd(List.of(tp));
        c.position(tp);
        long start = System.nanoTime();
        for (int r = 0; r < records; r++) {
          p.send(new ProducerRecord<>(topic, "k", value));
        }
        int got = 0;
        while (got < records) {
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
            got += r.value().length > 0 ? 1 : 0;
          }
        }
        out.add((System.nanoTime() - start) / 1e6);
      }
    }
    return out;
  }

  /** A checkpoint of a 93-h1[-h2]-9 MLP: random weights, a momentum history of the same shapes. */
  static Checkpoint checkpoint(String model, int seed, int h1, int h2) {
    StringBuilder deploy = new StringBuilder("name: \"bench\"\nlayer { name: \"data\" type: \"Input\" top: \"data\""
        + " input_param { shape { dim: 1 dim: 93 } } }\n");
    List<int[]> ips = new ArrayList<>();
    ips.add(new int[] {93, h1});
    if (h2 > 0) {
      ips.add(new int[] {h1, h2});
    }
    ips.add(new int[] {h2 > 0 ? h2 : h1, 9});
    NetParameter.Builder weights = NetParameter.newBuilder().setName("bench");
    SolverState.Builder state = SolverState.newBuilder().setIter(1000).setLearnedNet(model + "_iter_1000.caffemodel");
    Random r = new Random(seed);
    String bottom = "data";
    for (int i = 0; i < ips.size(); i++) {
      int in = ips.get(i)[0];
      int out = ips.get(i)[1];
      String name = "ip" + (i + 1);
      deploy.append("layer { name: \"").append(name).append("\" type: \"InnerProduct\" bottom: \"").append(bottom)
          .append("\" top: \"").append(name).append("\" inner_product_param { num_output: ").append(out)
          .append(" } }\n");
      if (i < ips.size() - 1) {
        deploy.append("layer { name: \"relu").append(i + 1).append("\" type: \"ReLU\" bottom: \"").append(name)
            .append("\" top: \"").append(name).append("\" }\n");
      }
      bottom = name;
      BlobProto w = blob(r, out, in);
      BlobProto b = blob(r, out);
      weights.addLayer(LayerParameter.newBuilder().setName(name).setType("InnerProduct").addBlobs(w).addBlobs(b));
      state.addHistory(blob(r, out, in)).addHistory(blob(r, out));
    }
    deploy.append("layer { name: \"prob\" type: \"Softmax\" bottom: \"").append(bottom).append("\" top: \"prob\" }\n");
    byte[] caffemodel = weights.build().toByteArray();
    byte[] solverstate = state.build().toByteArray();
    return Checkpoint.newBuilder().setModel(model).setRun("bench-" + model).setIteration(1000 + seed)
        .setDeployPrototxt(deploy.toString()).setCaffemodel(UnsafeByteOperations.unsafeWrap(caffemodel))
        .setSolverstate(UnsafeByteOperations.unsafeWrap(solverstate))
        .setSha256(CheckpointParts.sha256(UnsafeByteOperations.unsafeWrap(caffemodel),
            UnsafeByteOperations.unsafeWrap(solverstate)))
        .build();
  }

  private static BlobProto blob(Random r, int... dims) {
    BlobShape.Builder shape = BlobShape.newBuilder();
    long n = 1;
    for (int d : dims) {
      shape.addDim(d);
      n *= d;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * 0.01);
    }
    BlobProto.Builder b = BlobProto.newBuilder().setShape(shape);
    for (float f : v) {
      b.addData(f);
    }
    return b.build();
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static void await(String url) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() < 400) {
          return;
        }
      } catch (IOException e) {
        // not yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(url + " not up");
  }
}
