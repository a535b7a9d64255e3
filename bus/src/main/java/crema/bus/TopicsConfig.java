package crema.bus;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * {@code crema.topics.*}: how every service creates and checks the topics it uses at start
 * ({@link TopicSetup}). Retention, cleanup policy and record size are Crema's ({@link TopicKind});
 * replication is the cluster's.
 */
@ConfigurationProperties("crema.topics")
public class TopicsConfig {
  /** Replicas of each topic Crema creates; 0: min(3, brokers in the cluster). Default 0. */
  private int replicationFactor;
  /** min.insync.replicas of each topic; 0: replication factor - 1, at least 1. Default 0. */
  private int minInsyncReplicas;
  /** Alter the configs of existing topics that differ from Crema's instead of only warning. Default false. */
  private boolean fix;
  /** Partitions of each {@code crema.datums.<dataset>.<split>} topic created. Default 4. */
  private int datumsPartitions = TopicKind.DATUMS.partitions();
  /** Partitions of {@code crema.jobs} when created: at least the trainer replicas. Default 12. */
  private int jobsPartitions = TopicKind.JOBS.partitions();

  public int getDatumsPartitions() {
    return datumsPartitions;
  }

  public void setDatumsPartitions(int datumsPartitions) {
    if (datumsPartitions < 1) {
      throw new IllegalArgumentException("crema.topics.datums-partitions must be at least 1, not " + datumsPartitions);
    }
    this.datumsPartitions = datumsPartitions;
  }

  public int getJobsPartitions() {
    return jobsPartitions;
  }

  public void setJobsPartitions(int jobsPartitions) {
    if (jobsPartitions < 1) {
      throw new IllegalArgumentException("crema.topics.jobs-partitions must be at least 1, not " + jobsPartitions);
    }
    this.jobsPartitions = jobsPartitions;
  }

  /** The partitions a topic of {@code kind} is created with. */
  public int partitions(TopicKind kind) {
    return switch (kind) {
      case DATUMS -> datumsPartitions;
      case JOBS -> jobsPartitions;
      default -> kind.partitions();
    };
  }

  public int getReplicationFactor() {
    return replicationFactor;
  }

  public void setReplicationFactor(int replicationFactor) {
    this.replicationFactor = replicationFactor;
  }

  public int getMinInsyncReplicas() {
    return minInsyncReplicas;
  }

  public void setMinInsyncReplicas(int minInsyncReplicas) {
    this.minInsyncReplicas = minInsyncReplicas;
  }

  public boolean isFix() {
    return fix;
  }

  public void setFix(boolean fix) {
    this.fix = fix;
  }

  /** The replication factor on a cluster of {@code brokers} brokers. */
  public int replicationFactor(int brokers) {
    return replicationFactor > 0 ? replicationFactor : Math.max(1, Math.min(3, brokers));
  }

  /** min.insync.replicas for a replication factor. */
  public int minInsyncReplicas(int replicationFactor) {
    return minInsyncReplicas > 0 ? minInsyncReplicas : replicationFactor > 1 ? replicationFactor - 1 : 1;
  }
}
