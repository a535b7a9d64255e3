package crema.trainer;

import crema.bus.KafkaClients;
import crema.proto.Checkpoint;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Publishing checkpoints whole (one record, key = model) and finding a model's newest one. */
final class Checkpoints {
  private Checkpoints() {}

  /** Sends and waits for the broker's acknowledgement: a checkpoint is published or it is not. */
  static void publish(KafkaProducer<String, byte[]> producer, String topic, Checkpoint c) {
    try {
      producer.send(new ProducerRecord<>(topic, c.getModel(), c.toByteArray())).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing checkpoint " + c.getIteration());
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("checkpoint " + c.getIteration() + " of " + c.getModel()
          + " was not published: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** The newest checkpoint of {@code model} whose checksum verifies, reading the topic to its end. */
  static Optional<Checkpoint> newest(KafkaClients clients, String topic, String model) {
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-trainer-resume")) {
      List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofSeconds(10));
      if (parts == null || parts.isEmpty()) {
        return Optional.empty();
      }
      List<TopicPartition> tps = parts.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      var end = c.endOffsets(tps);
      Checkpoint best = null;
      long deadline = System.currentTimeMillis() + 60_000;
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          if (!model.equals(r.key()) || r.value() == null) {
            continue;
          }
          try {
            Checkpoint cp = Checkpoint.parseFrom(r.value());
            if (cp.getSha256().equals(crema.bus.CheckpointDigest.sha256(cp.getCaffemodel().toByteArray(), cp.getSolverstate().toByteArray()))) {
              best = cp;
            }
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // A record that is not a checkpoint cannot be resumed from; the previous one stands.
          }
        }
      }
      return Optional.ofNullable(best);
    }
  }
}
