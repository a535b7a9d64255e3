package crema.trainer;

import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.CheckpointDigest;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.proto.Checkpoint;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Publishing checkpoints whole (one record, key = model) and finding a run's newest one. */
final class Checkpoints {
  private Checkpoints() {}

  /** Sends and waits for the broker's acknowledgement: a checkpoint is published or it is not. */
  static void publish(KafkaProducer<String, byte[]> producer, String topic, Checkpoint c) {
    try {
      producer.send(new ProducerRecord<>(topic, c.getModel(), c.toByteArray())).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing checkpoint " + c.getIteration());
    } catch (ExecutionException e) {
      throw new IllegalStateException("checkpoint " + c.getIteration() + " of " + c.getModel()
          + " was not published: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * The newest checkpoint of run {@code run} whose checksum verifies, reading the topic to its end.
   * A run is a job: a new job for a model name that trained before starts from nothing.
   */
  static Optional<Checkpoint> newest(KafkaClients clients, String topic, String run) {
    Checkpoint[] best = {null};
    TopicLog.readToEnd(clients, "crema-trainer-resume", topic, Duration.ofSeconds(60), r -> {
      if (r.value() == null) {
        return;
      }
      try {
        Checkpoint cp = Checkpoint.parseFrom(r.value());
        if (run.equals(cp.getRun()) && (best[0] == null || cp.getIteration() >= best[0].getIteration())
            && cp.getSha256().equals(CheckpointDigest.sha256(cp.getCaffemodel().toByteArray(),
                cp.getSolverstate().toByteArray()))) {
          best[0] = cp;
        }
      } catch (InvalidProtocolBufferException e) {
        // A record that is not a checkpoint cannot be resumed from; the previous one stands.
      }
    });
    return Optional.ofNullable(best[0]);
  }
}
