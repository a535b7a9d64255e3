package crema.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.bus.Topics;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The ingest service on a real broker: rows to topics, every bad row to the dead-letter topic. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngestServiceTest implements TestPropertyProvider {
  @Inject
  @Client("/")
  HttpClient http;

  @Override
  public Map<String, String> getProperties() {
    // One partition: these tests check the records in the order ingest sent them (how Kafka
    // spreads them over partitions is the pipeline tests' subject).
    return Map.of("crema.topics.datums-partitions", "1", "micronaut.server.port", "-1", "kafka.bootstrap.servers",
        EmbeddedBroker.shared().bootstrapServers(),
        "crema.ingest.max-line-bytes", "200");
  }

  /** Every record of {@code topic}, every partition, in partition and then offset order. */
  static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    TopicLog.readToEnd(new KafkaClients(EmbeddedBroker.shared().bootstrapServers(), Map.of()), "test-reader", topic,
        Duration.ofSeconds(30), out::add);
    out.sort(java.util.Comparator.<ConsumerRecord<String, byte[]>>comparingInt(ConsumerRecord::partition)
        .thenComparingLong(ConsumerRecord::offset));
    return out;
  }

  @Test
  void goodRowsBecomeDatumsAndEveryBadRowIsADeadLetter() throws Exception {
    StringBuilder csv = new StringBuilder("id,a,b,label\n");
    for (int i = 0; i < 20; i++) {
      csv.append(i).append(',').append(i).append(',').append(2 * i).append(',').append(i % 2 == 0 ? "even" : "odd").append('\n');
    }
    String[] bad = {"20,1\n", "21,x,2,even\n", "22,NaN,2,odd\n", "23,1,Infinity,odd\n", "24,1,2,prime\n", "\n",
        "26," + "9".repeat(300) + ",2,odd\n"};
    for (String b : bad) {
      csv.append(b);
    }
    byte[] body = csv.toString().getBytes(StandardCharsets.UTF_8);
    byte[] invalid = "27,1,2,\u00ff\n".getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[body.length + invalid.length];
    System.arraycopy(body, 0, all, 0, body.length);
    System.arraycopy(invalid, 0, all, body.length, invalid.length);
    var reply = http.toBlocking().retrieve(HttpRequest.POST(
        "/v1/datasets/parity/rows?label=label&id=id&labels=even,odd&split=train&source=parity.csv", all)
        .contentType(MediaType.of("text/csv")), Map.class);
    assertEquals(28, ((Number) reply.get("received")).intValue());
    assertEquals(20, ((Number) reply.get("accepted")).intValue());
    assertEquals(8, ((Number) reply.get("rejected")).intValue());
    var datums = readAll(Topics.datums("parity", "train"));
    assertEquals(20, datums.size());
    assertEquals("7", datums.get(7).key());
    assertEquals(1, caffe.Caffe.Datum.parseFrom(datums.get(7).value()).getLabel());
    List<DeadLetter> letters = new ArrayList<>();
    for (var r : readAll(Topics.DEAD_LETTER)) {
      DeadLetter d = DeadLetter.parseFrom(r.value());
      if (d.getDataset().equals("parity")) {
        letters.add(d);
      }
    }
    assertEquals(8, letters.size());
    String[] reasons = {"expected 4 columns", "'x' is not a number", "NaN is not finite", "Infinity is not finite",
        "unknown label 'prime'", "empty line", "longer than the limit", "invalid UTF-8"};
    for (int i = 0; i < 8; i++) {
      assertEquals(22 + i, letters.get(i).getLineNumber());
      assertTrue(letters.get(i).getReason().contains(reasons[i]), letters.get(i).getReason());
      assertEquals("parity.csv", letters.get(i).getSource());
    }
    DatasetSchema schema = null;
    for (var r : readAll(Topics.DATASETS)) {
      if (r.key().equals("parity")) {
        schema = DatasetSchema.parseFrom(r.value());
      }
    }
    assertEquals(List.of("even", "odd"), schema.getLabelNamesList());
    assertEquals(List.of(10L, 10L), schema.getCountsBySplitMap().get("train").getCountList());
    assertEquals(19.0, schema.getFeatures(0).getMax());
    assertEquals(9.5, schema.getFeatures(0).getMean(), 1e-9);
  }

  @Test
  void stratifiedSplitOnAStream() {
    StringBuilder csv = new StringBuilder("x,y\n");
    for (int i = 0; i < 1000; i++) {
      csv.append(i).append(',').append(i % 4).append('\n');
    }
    var reply = http.toBlocking().retrieve(HttpRequest.POST(
        "/v1/datasets/quarters/rows?label=y&test_fraction=0.2&seed=3", csv.toString())
        .contentType(MediaType.of("text/csv")), Map.class);
    @SuppressWarnings("unchecked")
    Map<String, Number> perSplit = (Map<String, Number>) reply.get("perSplit");
    assertEquals(200, perSplit.get("test").intValue());
    assertEquals(800, perSplit.get("train").intValue());
    assertEquals(List.of("0", "1", "2", "3"), reply.get("labels"));
  }

  @Test
  void linesOnTheRawTopicAreIngestedToo() throws Exception {
    KafkaClients clients = new KafkaClients(EmbeddedBroker.shared().bootstrapServers(), Map.of());
    try (var p = clients.producer("raw-writer")) {
      String[] lines = {"1,0.5,2,a", "2,oops,1,b", "3,4,5,b"};
      for (String line : lines) {
        var rec = new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(Topics.RAW, "sensor-7",
            line.getBytes(StandardCharsets.UTF_8));
        rec.headers().add("dataset", "rawset".getBytes(StandardCharsets.UTF_8))
            .add("columns", "id,x,y,label".getBytes(StandardCharsets.UTF_8))
            .add("id", "id".getBytes(StandardCharsets.UTF_8))
            .add("label", "label".getBytes(StandardCharsets.UTF_8))
            .add("labels", "a,b".getBytes(StandardCharsets.UTF_8));
        p.send(rec).get();
      }
    }
    long deadline = System.currentTimeMillis() + 60_000;
    List<ConsumerRecord<String, byte[]>> datums = List.of();
    while (System.currentTimeMillis() < deadline) {
      try {
        datums = readAll(Topics.datums("rawset", "train"));
      } catch (RuntimeException e) {
        datums = List.of();
      }
      if (datums.size() == 2) {
        break;
      }
      Thread.sleep(300);
    }
    assertEquals(List.of("1", "3"), datums.stream().map(ConsumerRecord::key).toList());
    boolean dead = false;
    for (var r : readAll(Topics.DEAD_LETTER)) {
      DeadLetter d = DeadLetter.parseFrom(r.value());
      dead |= d.getSource().equals("kafka:sensor-7") && d.getReason().contains("'oops' is not a number");
    }
    assertTrue(dead, "the bad line is a dead letter");
  }

  @Test
  void badDatasetNameIsA400() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.micronaut.http.client.exceptions.HttpClientResponseException.class,
        () -> http.toBlocking().retrieve(HttpRequest.POST("/v1/datasets/a.b/rows", "x\n1\n")
            .contentType(MediaType.of("text/csv")), Map.class));
    assertEquals(400, e.getStatus().getCode());
  }
}
