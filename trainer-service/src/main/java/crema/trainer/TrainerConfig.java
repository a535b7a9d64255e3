package crema.trainer;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Requires;

/** {@code crema.trainer.*}. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.trainer", notEquals = "false")
@ConfigurationProperties("crema.trainer")
public class TrainerConfig {
  /** Where checkpoints are published (compacted, key = model). Default crema.checkpoints. */
  private String checkpointTopic = "crema.checkpoints";
  /** Where progress is published (key = run). Default crema.train-events. */
  private String eventsTopic = "crema.train-events";
  /** Where ingest keeps each dataset's schema, read into a checkpoint's model contract. Default crema.datasets. */
  private String datasetsTopic = "crema.datasets";
  /** Where submitted jobs are recorded, to resume them after a restart. Default crema.jobs. */
  private String jobsTopic = "crema.jobs";
  /** How long a Data layer waits for its topic to exist and hold records, in ms. Default 60000. */
  private long dataWaitMs = 60_000;
  /** Largest solver, net or deploy prototxt a job may send, in bytes. Default 1048576. */
  private long maxPrototxtBytes = 1 << 20;
  /** Jobs this replica runs at once; the others wait in order. Default 2. */
  private int maxConcurrentJobs = 2;
  /** The consumer group the trainer replicas share crema.jobs' partitions in. Default crema-trainer. */
  private String groupId = "crema-trainer";
  /**
   * How long a replica may go unheard before the group moves its jobs to the others, in ms (at
   * least the broker's group.min.session.timeout.ms, 6000 by default). Default 10000.
   */
  private long sessionTimeoutMs = 10_000;

  public int getMaxConcurrentJobs() {
    return maxConcurrentJobs;
  }

  public void setMaxConcurrentJobs(int maxConcurrentJobs) {
    if (maxConcurrentJobs < 1) {
      throw new IllegalArgumentException("crema.trainer.max-concurrent-jobs must be at least 1, not " + maxConcurrentJobs);
    }
    this.maxConcurrentJobs = maxConcurrentJobs;
  }

  public String getGroupId() {
    return groupId;
  }

  public void setGroupId(String groupId) {
    this.groupId = groupId;
  }

  public long getSessionTimeoutMs() {
    return sessionTimeoutMs;
  }

  public void setSessionTimeoutMs(long sessionTimeoutMs) {
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  public long getMaxPrototxtBytes() {
    return maxPrototxtBytes;
  }

  public void setMaxPrototxtBytes(long maxPrototxtBytes) {
    this.maxPrototxtBytes = maxPrototxtBytes;
  }

  public String getCheckpointTopic() {
    return checkpointTopic;
  }

  public void setCheckpointTopic(String checkpointTopic) {
    this.checkpointTopic = checkpointTopic;
  }

  public String getEventsTopic() {
    return eventsTopic;
  }

  public void setEventsTopic(String eventsTopic) {
    this.eventsTopic = eventsTopic;
  }

  public String getJobsTopic() {
    return jobsTopic;
  }

  public void setJobsTopic(String jobsTopic) {
    this.jobsTopic = jobsTopic;
  }

  public long getDataWaitMs() {
    return dataWaitMs;
  }

  public void setDataWaitMs(long dataWaitMs) {
    this.dataWaitMs = dataWaitMs;
  }

  public String getDatasetsTopic() {
    return datasetsTopic;
  }

  public void setDatasetsTopic(String datasetsTopic) {
    this.datasetsTopic = datasetsTopic;
  }

  /**
   * A checkpoint whose serialized size is over this many bytes goes out as parts of this size plus
   * a manifest (each part record is this plus ~200 bytes: keep it under the topic's
   * max.message.bytes and the producer's max.request.size, 1 MiB by default). Default 524288.
   */
  private int checkpointPartBytes = 512 * 1024;

  public int getCheckpointPartBytes() {
    return checkpointPartBytes;
  }

  public void setCheckpointPartBytes(int checkpointPartBytes) {
    if (checkpointPartBytes < 1024) {
      throw new IllegalArgumentException("crema.trainer.checkpoint-part-bytes must be at least 1024, not "
          + checkpointPartBytes);
    }
    this.checkpointPartBytes = checkpointPartBytes;
  }
}
