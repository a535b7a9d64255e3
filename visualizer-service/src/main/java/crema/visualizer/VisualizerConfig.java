package crema.visualizer;

import crema.bus.Topics;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Requires;

/** {@code crema.visualizer.*}. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@ConfigurationProperties("crema.visualizer")
public class VisualizerConfig {
  /** Training progress to follow. Default crema.train-events. */
  private String eventsTopic = Topics.TRAIN_EVENTS;
  /** Checkpoints to follow (weights are read back from here on demand). Default crema.checkpoints. */
  private String checkpointTopic = Topics.CHECKPOINTS;
  /** Jobs as submitted (solver and net prototxt). Default crema.jobs. */
  private String jobsTopic = Topics.JOBS;
  /** Dataset schemas and statistics. Default crema.datasets. */
  private String datasetsTopic = Topics.DATASETS;
  /** Rejected rows. Default crema.dead-letter. */
  private String deadLetterTopic = Topics.DEAD_LETTER;
  /** Most points kept per curve; longer curves are downsampled evenly. Default 2000. */
  private int maxCurvePoints = 2000;
  /** Checkpoints whose weights are kept decoded in memory (others are read again from Kafka). Default 4. */
  private int cachedCheckpoints = 4;
  /** Latest dead letters kept per dataset. Default 20. */
  private int deadLettersKept = 20;
  /** Most cells of a weight heatmap; a larger matrix is averaged in blocks. Default 65536. */
  private int maxHeatmapCells = 65_536;
  /** The inference service the predict page talks to. Default http://localhost:8083. */
  private String inferenceUrl = "http://localhost:8083";

  public String getEventsTopic() {
    return eventsTopic;
  }

  public void setEventsTopic(String eventsTopic) {
    this.eventsTopic = eventsTopic;
  }

  public String getCheckpointTopic() {
    return checkpointTopic;
  }

  public void setCheckpointTopic(String checkpointTopic) {
    this.checkpointTopic = checkpointTopic;
  }

  public String getJobsTopic() {
    return jobsTopic;
  }

  public void setJobsTopic(String jobsTopic) {
    this.jobsTopic = jobsTopic;
  }

  public String getDatasetsTopic() {
    return datasetsTopic;
  }

  public void setDatasetsTopic(String datasetsTopic) {
    this.datasetsTopic = datasetsTopic;
  }

  public String getDeadLetterTopic() {
    return deadLetterTopic;
  }

  public void setDeadLetterTopic(String deadLetterTopic) {
    this.deadLetterTopic = deadLetterTopic;
  }

  public int getMaxCurvePoints() {
    return maxCurvePoints;
  }

  public void setMaxCurvePoints(int maxCurvePoints) {
    this.maxCurvePoints = maxCurvePoints;
  }

  public int getCachedCheckpoints() {
    return cachedCheckpoints;
  }

  public void setCachedCheckpoints(int cachedCheckpoints) {
    this.cachedCheckpoints = cachedCheckpoints;
  }

  public int getDeadLettersKept() {
    return deadLettersKept;
  }

  public void setDeadLettersKept(int deadLettersKept) {
    this.deadLettersKept = deadLettersKept;
  }

  public int getMaxHeatmapCells() {
    return maxHeatmapCells;
  }

  public void setMaxHeatmapCells(int maxHeatmapCells) {
    this.maxHeatmapCells = maxHeatmapCells;
  }

  public String getInferenceUrl() {
    return inferenceUrl;
  }

  public void setInferenceUrl(String inferenceUrl) {
    this.inferenceUrl = inferenceUrl;
  }
}
