package crema.bus;

import com.google.protobuf.InvalidProtocolBufferException;
import crema.proto.DatasetSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Reading a topic's log from its beginning to the end it has now, every partition. */
public final class TopicLog {
  private TopicLog() {}

  /**
   * Hands every record of {@code topic} that exists now to {@code each}, partition by partition
   * in offset order; a topic that does not exist has none. Fails after {@code timeout}.
   */
  public static void readToEnd(KafkaClients clients, String clientId, String topic, Duration timeout,
      Consumer<ConsumerRecord<String, byte[]>> each) {
    try (KafkaConsumer<String, byte[]> c = clients.consumer(clientId)) {
      List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofSeconds(10));
      if (parts == null || parts.isEmpty()) {
        return;
      }
      List<TopicPartition> tps = parts.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("reading " + topic + " to its end took over " + timeout.toSeconds() + " s");
        }
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            each.accept(r);
          }
        }
      }
    }
  }

  /**
   * Assigns {@code c} every partition of {@code topic} from the beginning, waiting (while
   * {@code running} says so) for the topic to exist. Returns the partitions, empty when stopped first.
   */
  public static List<TopicPartition> assignFromBeginning(KafkaConsumer<String, byte[]> c, String topic,
      java.util.function.BooleanSupplier running) throws InterruptedException {
    List<PartitionInfo> parts = List.of();
    while (running.getAsBoolean() && parts.isEmpty()) {
      parts = c.partitionsFor(topic, Duration.ofSeconds(5));
      if (parts == null || parts.isEmpty()) {
        parts = List.of();
        Thread.sleep(200);
      }
    }
    List<TopicPartition> tps = parts.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    c.assign(tps);
    c.seekToBeginning(tps);
    return tps;
  }

  /** The newest {@code crema.datasets} record of {@code dataset}, if any. */
  public static Optional<DatasetSchema> datasetSchema(KafkaClients clients, String topic, String dataset) {
    DatasetSchema[] newest = {null};
    readToEnd(clients, "crema-dataset-schema", topic, Duration.ofSeconds(60), r -> {
      if (dataset.equals(r.key()) && r.value() != null) {
        try {
          newest[0] = DatasetSchema.parseFrom(r.value());
        } catch (InvalidProtocolBufferException e) {
          // Not a schema: the previous one stands.
        }
      }
    });
    return Optional.ofNullable(newest[0]);
  }

  /** The dataset a Datum topic {@code crema.datums.<dataset>.<split>} belongs to, if it is one. */
  public static Optional<String> datasetOf(String datumTopic) {
    String prefix = "crema.datums.";
    if (datumTopic == null || !datumTopic.startsWith(prefix)) {
      return Optional.empty();
    }
    String rest = datumTopic.substring(prefix.length());
    int dot = rest.lastIndexOf('.');
    return dot > 0 ? Optional.of(rest.substring(0, dot)) : Optional.empty();
  }
}
