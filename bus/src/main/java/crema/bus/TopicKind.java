package crema.bus;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every kind of topic the pipeline uses, with the settings Crema creates it with (shared/DESIGN.md,
 * README "Topics"). Nothing is left to the broker's defaults: Kafka deletes records after 7 days
 * unless a topic says otherwise, and the training sets, jobs and checkpoints must stay.
 *
 * <p>Datum topics have {@link TopicsConfig#getDatumsPartitions()} partitions (default 4; the
 * trainer's Kafka Data layer reads every partition in one deterministic interleave, and any count,
 * one included, works), {@code crema.jobs} has {@link TopicsConfig#getJobsPartitions()} (default
 * 12: trainer replicas share them in one consumer group), the predict topics have 6, shared by the
 * inference replicas; the others have one. Replication factor and {@code min.insync.replicas} are
 * the cluster's (see {@link TopicsConfig}), not the kind's.
 */
public enum TopicKind {
  RAW(Topics.RAW, "source id", "one CSV line; headers name dataset and columns", 1, "delete", Week.MS, -1,
      Limit.KAFKA_DEFAULT,
      "lines waiting to be converted: kept a week, then gone (the datums are the record)"),
  DATUMS("crema.datums.<dataset>.<split>", "row id", "caffe.Datum", 4, "delete", -1, -1, Limit.KAFKA_DEFAULT,
      "the training set itself: kept forever; rows spread over the partitions by key, read in one interleave"),
  DATASETS(Topics.DATASETS, "dataset", "DatasetSchema", 1, "compact", -1, -1, Limit.SCHEMA,
      "the newest schema of each dataset, kept forever by compaction; up to 16 MiB (an image dataset's schema"
          + " has a name and statistics per pixel: about 10 MB for 224x224x3)"),
  DEAD_LETTER(Topics.DEAD_LETTER, "source id", "DeadLetter", 1, "delete", -1, -1, Limit.KAFKA_DEFAULT,
      "every rejected row and its reason: nothing is lost silently"),
  JOBS(Topics.JOBS, "job id", "Job", 12, "delete", -1, -1, Limit.KAFKA_DEFAULT,
      "submitted jobs, resumed after a restart: kept forever; trainer replicas share its partitions"),
  CHECKPOINTS(Topics.CHECKPOINTS, "model", "Checkpoint (weights, solver state, offsets), or its parts and manifest", 1,
      "delete", -1, -1, Limit.KAFKA_DEFAULT,
      "trained models: kept forever; one larger than a part goes as parts plus a manifest (never compacted: parts"
          + " share their model's key)"),
  TRAIN_EVENTS(Topics.TRAIN_EVENTS, "run", "TrainEvent", 1, "delete", -1, -1, Limit.KAFKA_DEFAULT,
      "the training curves: kept forever"),
  PREDICT_REQUESTS(Topics.PREDICT_REQUESTS, "request id", "PredictRequest", 6, "delete", Week.MS, -1,
      Limit.KAFKA_DEFAULT,
      "requests of Kafka clients, shared by the inference replicas (one consumer group): kept a week"),
  PREDICTIONS(Topics.PREDICTIONS, "request id", "PredictResult", 6, "delete", Week.MS, -1, Limit.KAFKA_DEFAULT,
      "answers to Kafka clients, written in transactions: kept a week");

  /**
   * Kafka's default {@code max.message.bytes} (1 MiB + 12, the broker's {@code message.max.bytes}),
   * stated explicitly: no topic needs more, a checkpoint larger than a record travels in parts.
   */
  static final class Limit {
    static final int KAFKA_DEFAULT = 1_048_588;
    /** The one topic over Kafka's default: schemas are one record each and cannot be cut. */
    static final int SCHEMA = 16 << 20;
  }

  /** Kafka's default retention, stated explicitly for the topics that keep it. */
  static final class Week {
    static final long MS = 7L * 24 * 3600 * 1000;
  }

  private final String defaultName;
  private final String key;
  private final String value;
  private final int partitions;
  private final String cleanupPolicy;
  private final long retentionMs;
  private final long retentionBytes;
  private final int maxMessageBytes;
  private final String why;

  TopicKind(String defaultName, String key, String value, int partitions, String cleanupPolicy, long retentionMs,
      long retentionBytes, int maxMessageBytes, String why) {
    this.defaultName = defaultName;
    this.key = key;
    this.value = value;
    this.partitions = partitions;
    this.cleanupPolicy = cleanupPolicy;
    this.retentionMs = retentionMs;
    this.retentionBytes = retentionBytes;
    this.maxMessageBytes = maxMessageBytes;
    this.why = why;
  }

  /** This kind of topic under the name given (topic names are configuration in the services). */
  public TopicSpec named(String name) {
    if (this == DATUMS && !name.startsWith("crema.datums.")) {
      throw new IllegalArgumentException("a datums topic is named crema.datums.<dataset>.<split>, not " + name);
    }
    return new TopicSpec(name, this);
  }

  /** This kind under its default name (not for {@link #DATUMS}: see {@link #datums}). */
  public TopicSpec spec() {
    if (this == DATUMS) {
      throw new IllegalStateException("datums topics are named per dataset and split: use TopicKind.datums");
    }
    return new TopicSpec(defaultName, this);
  }

  /** {@code crema.datums.<dataset>.<split>}. */
  public static TopicSpec datums(String dataset, String split) {
    return new TopicSpec(Topics.datums(dataset, split), DATUMS);
  }

  /**
   * The kind of a topic known by its default name or as {@code crema.datums.*}; null for any
   * other name (a topic renamed by configuration is declared with {@link #named}).
   */
  public static TopicKind of(String name) {
    if (name.startsWith("crema.datums.")) {
      return DATUMS;
    }
    for (TopicKind k : values()) {
      if (k.defaultName.equals(name)) {
        return k;
      }
    }
    return null;
  }

  public String defaultName() {
    return defaultName;
  }

  public String key() {
    return key;
  }

  public String value() {
    return value;
  }

  /** The partitions Crema creates this kind with by default ({@link TopicsConfig#partitions} may say otherwise). */
  public int partitions() {
    return partitions;
  }

  /** The largest record this kind of topic takes ({@code max.message.bytes}). */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  public String why() {
    return why;
  }

  /** The topic configs Crema sets, {@code min.insync.replicas} included, in a stable order. */
  public Map<String, String> configs(int minInsyncReplicas) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("cleanup.policy", cleanupPolicy);
    c.put("retention.ms", Long.toString(retentionMs));
    c.put("retention.bytes", Long.toString(retentionBytes));
    c.put("max.message.bytes", Integer.toString(maxMessageBytes));
    c.put("min.insync.replicas", Integer.toString(minInsyncReplicas));
    return c;
  }

  /** Words for a config value, for messages: "-1 (kept forever)". */
  static String explain(String configKey, String value) {
    if ((configKey.equals("retention.ms") || configKey.equals("retention.bytes")) && "-1".equals(value)) {
      return "-1 (kept forever)";
    }
    if (configKey.equals("retention.ms") && Long.toString(Week.MS).equals(value)) {
      return value + " (7 days)";
    }
    return value;
  }
}
