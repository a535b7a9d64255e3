package crema.pipeline;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
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

/** What the pipeline tests share: the digits CSV, HTTP posts, reading a topic to its end. */
final class PipelineSupport {
  private static HttpClient http;

  private PipelineSupport() {}

  static synchronized HttpClient http() {
    if (http == null) {
      // 60 s, not Micronaut's 10: CI runs these services on two cores beside the build, and an
      // ingest that takes 8 s on a quiet run has taken over 10 there.
      var config = new io.micronaut.http.client.DefaultHttpClientConfiguration();
      config.setReadTimeout(Duration.ofSeconds(60));
      http = HttpClient.create(null, config);
    }
    return http;
  }

  /** A port nothing listens on now. */
  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The real UCI digits (examples/digits) with a header: p0..p63, digit. */
  static String digitsCsv() throws Exception {
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      csv.append('p').append(i).append(',');
    }
    csv.append("digit\n");
    Path gz = Path.of("").toAbsolutePath().getParent().resolve("examples/digits/digits.csv.gz");
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
      csv.append(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
    }
    return csv.toString();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> post(String base, String path, Object body, MediaType type) {
    return http().toBlocking().retrieve(HttpRequest.POST(base + path, body).contentType(type), Map.class);
  }

  /**
   * Every committed record of a topic, from the beginning to the end it has now, in the order the trainer's
   * Kafka Data layer reads a pass: by offset, then partition (one partition: offset order).
   */
  static List<ConsumerRecord<String, byte[]>> readAll(EmbeddedBroker broker, String topic) {
    return readAll(broker.bootstrapServers(), topic);
  }

  /** {@link #readAll(EmbeddedBroker, String)} on any cluster. */
  static List<ConsumerRecord<String, byte[]>> readAll(String bootstrapServers, String topic) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    crema.bus.TopicLog.readToEnd(new KafkaClients(bootstrapServers, Map.of()), "test-reader", topic,
        Duration.ofSeconds(120), out::add);
    out.sort(java.util.Comparator.<ConsumerRecord<String, byte[]>>comparingLong(ConsumerRecord::offset)
        .thenComparingInt(ConsumerRecord::partition));
    return out;
  }

  /**
   * Every checkpoint on {@code crema.checkpoints}, in topic order, as every reader sees them: one
   * in parts reassembled from them; a torn write (parts with no manifest) is no checkpoint, and
   * nor is a record that does not verify.
   */
  static List<crema.proto.Checkpoint> checkpoints(String bootstrapServers) {
    crema.proto.CheckpointAssembler assembler = new crema.proto.CheckpointAssembler();
    List<crema.proto.Checkpoint> out = new ArrayList<>();
    for (var r : readAll(bootstrapServers, crema.bus.Topics.CHECKPOINTS)) {
      try {
        crema.proto.Checkpoint c = assembler.offer(r.partition(), r.offset(), r.value());
        if (c != null) {
          out.add(assembler.complete(c, (partition, offsets) -> {
            throw new IllegalStateException("parts read in topic order are all kept: " + partition + "@" + offsets);
          }));
        }
      } catch (IllegalArgumentException e) {
        // not a checkpoint, or one that does not verify (the tests corrupt some on purpose)
      }
    }
    return out;
  }

  /** A small MLP on a digits Datum topic (pixels 0..16 scaled to 0..1): seconds to train. */
  static String smallDigitsNet(String source) {
    return """
        layer { name: "data" type: "Data" top: "data" top: "label"
          transform_param { scale: 0.0625 } data_param { source: "%s" batch_size: 16 backend: KAFKA } }
        layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          inner_product_param { num_output: 16 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
        """.formatted(source);
  }

  /** SGD, fixed rate, a checkpoint every {@code snapshot} iterations, seeded. */
  static String smallSolver(int maxIter, int snapshot) {
    return "type: \"SGD\" base_lr: 0.05 lr_policy: \"fixed\" display: 50 max_iter: " + maxIter
        + " snapshot: " + snapshot + " random_seed: 5\n";
  }
}
