package crema.inference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * The inference service's meters, in Micrometer's names (Prometheus turns the dots into
 * underscores): requests by model and status, latency split into queue and compute, batch sizes,
 * the served version, and what happened to each checkpoint offered.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Singleton
public class InferenceMetrics {
  private final MeterRegistry registry;
  private final Map<String, Boolean> versionGauges = new ConcurrentHashMap<>();

  public InferenceMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The Kafka client's own metrics (kafka_consumer_*) for as long as the returned binder is open. */
  KafkaClientMetrics bind(
      Consumer<?, ?> consumer) {
    var binder = new KafkaClientMetrics(consumer);
    binder.bindTo(registry);
    return binder;
  }

  void request(String model, int status) {
    // Each counter looked up once, then kept: a builder and registry lookup per request allocated
    // its tags and id on every predict's path.
    Counter[] byStatus = requestCounters.computeIfAbsent(model, m -> new Counter[600]);
    boolean cached = status >= 0 && status < byStatus.length;
    Counter c = cached ? byStatus[status] : null;
    if (c == null) {
      c = Counter.builder("crema.inference.requests").description("Predict requests by model and HTTP status")
          .tags("model", model, "status", Integer.toString(status)).register(registry);
      if (cached) {
        byStatus[status] = c;
      }
    }
    c.increment();
  }

  /** crema.inference.requests by model, then by status (a racing first look-up registers the same counter). */
  private final Map<String, Counter[]> requestCounters = new ConcurrentHashMap<>();

  /**
   * One model's latency and batch meters, looked up once when the model is loaded rather than on
   * every request: phase "queue" (waiting for the model's worker) and "compute" (the forward pass).
   */
  record ModelMeters(Timer queue, Timer compute, DistributionSummary batch) {}

  ModelMeters forModel(String model) {
    return new ModelMeters(latency(model, "queue"), latency(model, "compute"),
        DistributionSummary.builder("crema.inference.batch.size").description("Rows run through the net at once")
            .tag("model", model).publishPercentileHistogram().register(registry));
  }

  private Timer latency(String model, String phase) {
    return Timer.builder("crema.inference.latency").description("Predict latency, queue and compute apart")
        .tags("model", model, "phase", phase).publishPercentileHistogram().register(registry);
  }

  void loaded(String model, boolean replaced) {
    Counter.builder("crema.inference.model.loads").description("Checkpoints verified, warmed up and served")
        .tag("model", model).register(registry).increment();
    // Registered at the first load so that a model's swaps and rejections read 0, not absent.
    Counter swaps = Counter.builder("crema.inference.model.swaps")
        .description("Served models replaced by a newer checkpoint").tag("model", model).register(registry);
    if (replaced) {
      swaps.increment();
    }
    rejectedCounter(model);
  }

  void rejected(String model) {
    rejectedCounter(model).increment();
  }

  private Counter rejectedCounter(String model) {
    return Counter.builder("crema.inference.checkpoints.rejected")
        .description("Checkpoints refused (checksum, net, weights or warm-up failed); the old model kept serving")
        .tag("model", model).register(registry);
  }

  /** crema.inference.model.iteration{model}: the iteration of the checkpoint served now. */
  void version(String model, Models models) {
    if (versionGauges.putIfAbsent(model, true) == null) {
      ToDoubleFunction<Models> f = m -> m.get(model).map(s -> (double) s.checkpoint.getIteration()).orElse(Double.NaN);
      Gauge.builder("crema.inference.model.iteration", models, f).description("Iteration of the served checkpoint")
          .tag("model", model).register(registry);
    }
  }
}
