package crema.trainer;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The trainer's meters for one model: what the newest display and test of its current run said,
 * and its checkpoints. One holder per model for the life of the process, so a model's gauges
 * survive from one run of it to the next (Micrometer keeps the first gauge registered per name).
 */
final class TrainingMetrics {
  /** Per registry (by identity: registries do not override equals), per model. */
  private static final Map<Map.Entry<MeterRegistry, String>, TrainingMetrics> BY_MODEL = new ConcurrentHashMap<>();

  private final MeterRegistry registry;
  private final String model;
  volatile double iteration;
  volatile double loss = Double.NaN;
  volatile double learningRate = Double.NaN;
  volatile double examplesPerSecond;
  private final Map<String, Double> testScores = new ConcurrentHashMap<>();
  final DistributionSummary checkpointSize;
  final Timer checkpointPublish;

  private TrainingMetrics(MeterRegistry registry, String model) {
    this.registry = registry;
    this.model = model;
    gauge("crema.trainer.iteration", "The iteration the model's run has reached", m -> m.iteration);
    gauge("crema.trainer.loss", "The training loss at the newest display (Caffe's smoothed loss)", m -> m.loss);
    gauge("crema.trainer.learning.rate", "The learning rate at the newest display", m -> m.learningRate);
    gauge("crema.trainer.examples.per.second", "Training examples per second since the run started",
        m -> m.examplesPerSecond);
    checkpointSize = DistributionSummary.builder("crema.trainer.checkpoint.size")
        .description("Bytes of each published checkpoint record (weights and solver state)").baseUnit("bytes")
        .tag("model", model).register(registry);
    checkpointPublish = Timer.builder("crema.trainer.checkpoint.publish")
        .description("From taking a snapshot to Kafka acknowledging its checkpoint record")
        .tag("model", model).publishPercentileHistogram().register(registry);
  }

  static TrainingMetrics of(MeterRegistry registry, String model) {
    return BY_MODEL.computeIfAbsent(Map.entry(registry, model), k -> new TrainingMetrics(registry, model));
  }

  private void gauge(String name, String description, ToDoubleFunction<TrainingMetrics> f) {
    Gauge.builder(name, this, f).description(description).tag("model", model).strongReference(true)
        .register(registry);
  }

  /** crema.trainer.test.score{model, output}: the newest test of each output (accuracy, loss, ...). */
  void testScore(String output, double value) {
    if (testScores.put(output, value) == null) {
      Gauge.builder("crema.trainer.test.score", testScores, m -> m.getOrDefault(output, Double.NaN))
          .description("The newest test score of each test net output").tags("model", model, "output", output)
          .strongReference(true).register(registry);
    }
  }
}
