package crema.trainer;

import crema.bus.CheckpointLog;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finding a run's newest checkpoint, whole or reassembled from its parts ({@link CheckpointParts});
 * they are published by {@link CheckpointLog#publish}.
 */
final class Checkpoints {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);

  private Checkpoints() {}

  /** A whole checkpoint or a manifest, and where it lies. */
  private record Candidate(Checkpoint record, int partition, long offset) {}

  /**
   * The newest checkpoint of run {@code run} that verifies (reassembled, when in parts), reading
   * the topic to its end. A run is a job: a new job for a model name that trained before starts
   * from nothing.
   */
  static Optional<Checkpoint> newest(KafkaClients clients, String topic, String run) {
    List<Candidate> candidates = new ArrayList<>();
    TopicLog.readToEnd(clients, "crema-trainer-resume", topic, Duration.ofSeconds(120), r -> {
      if (r.value() == null) {
        return;
      }
      Checkpoint cp;
      try {
        cp = CheckpointParts.parse(r.value(), topic + "/" + r.partition() + "@" + r.offset());
      } catch (IllegalArgumentException e) {
        return; // A record that is not a checkpoint cannot be resumed from; the previous one stands.
      }
      // Parts are read back only for the manifest chosen; those without one are a torn write.
      if (run.equals(cp.getRun()) && CheckpointParts.kind(cp) != CheckpointParts.Kind.PART) {
        candidates.add(new Candidate(cp, r.partition(), r.offset()));
      }
    });
    // Newest iteration first; at the same iteration, the later record.
    candidates.sort(Comparator.comparingInt((Candidate c) -> c.record().getIteration())
        .thenComparingLong(Candidate::offset).reversed());
    try (CheckpointLog log = new CheckpointLog(clients, "crema-trainer-resume-parts", topic)) {
      for (Candidate c : candidates) {
        try {
          return Optional.of(CheckpointParts.complete(c.record(), log));
        } catch (RuntimeException e) {
          LOG.warn("run {}: not resuming from the checkpoint at {}/{}@{}: {}", run, topic, c.partition(), c.offset(),
              e.getMessage());
        }
      }
    }
    return Optional.empty();
  }
}
