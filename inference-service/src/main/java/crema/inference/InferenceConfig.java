package crema.inference;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Requires;

/** {@code crema.inference.*}. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@ConfigurationProperties("crema.inference")
public class InferenceConfig {
  /** The checkpoints to follow. Default crema.checkpoints. */
  private String checkpointTopic = "crema.checkpoints";
  /** Most rows run through the net at once when requests are batched. Default 256. */
  private int maxBatch = 256;
  /**
   * This replica's name among the replicas sharing crema.predict-requests; empty: a new random one
   * each start. Default empty. A replica that keeps its name across restarts gets its partitions
   * back at once (static group membership) and aborts the answers its predecessor left half-sent.
   */
  private String replicaId = "";

  public String getCheckpointTopic() {
    return checkpointTopic;
  }

  public void setCheckpointTopic(String checkpointTopic) {
    this.checkpointTopic = checkpointTopic;
  }

  public String getReplicaId() {
    return replicaId;
  }

  public void setReplicaId(String replicaId) {
    this.replicaId = replicaId == null ? "" : replicaId;
  }

  public int getMaxBatch() {
    return maxBatch;
  }

  public void setMaxBatch(int maxBatch) {
    this.maxBatch = maxBatch;
  }
}
