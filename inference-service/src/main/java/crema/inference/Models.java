package crema.inference;

import crema.bus.CheckpointLog;
import crema.bus.ConsumerLoop;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.bus.TopicKind;
import crema.bus.TopicSetup;
import crema.proto.Checkpoint;
import crema.proto.CheckpointAssembler;
import crema.proto.CheckpointParts;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The served models. A background thread follows the checkpoint topic from its beginning; for each
 * model it loads every newer checkpoint that verifies (one in parts once its manifest comes,
 * reassembled and verified part by part and whole), warms it up beside the old one and swaps it
 * in atomically. A checkpoint that fails is logged and counted; the old model keeps serving.
 *
 * <p>It is {@linkplain #caughtUp() caught up} once every record that was on the topic when it
 * started has been considered: every model named there is then loaded or has failed to load.
 * Until then the replica takes no requests from Kafka and its readiness is down, so no request for
 * a model that exists is answered "no model is served".
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Singleton
public class Models {
  private static final Logger LOG = LoggerFactory.getLogger(Models.class);

  private final KafkaClients clients;
  private final InferenceConfig config;
  private final Map<String, ServedModel> served = new ConcurrentHashMap<>();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong swaps = new AtomicLong();
  private ConsumerLoop follower;
  /** Open until the follower has read the topic to the end it had at start. */
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  /** Closes replaced models. */
  private final ExecutorService retirer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "retire-models");
    t.setDaemon(true);
    return t;
  });
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  private final InferenceMetrics meters;

  public Models(KafkaClients clients, InferenceConfig config, InferenceMetrics meters) {
    this.clients = clients;
    this.config = config;
    this.meters = meters;
  }

  @PostConstruct
  void start() {
    topics.ensureAtStart(TopicKind.CHECKPOINTS.named(config.getCheckpointTopic()));
    // When the broker goes away or the topic changes, the loop reconnects and reads from the start.
    follower = ConsumerLoop.start("checkpoint follower", () -> clients.consumer("crema-inference-checkpoints"),
        this::follow);
  }

  private void follow(KafkaConsumer<String, byte[]> c, BooleanSupplier running) throws InterruptedException {
    try (var kafkaMeters = meters.bind(c)) {
      String topic = config.getCheckpointTopic();
      List<TopicPartition> tps = TopicLog.assignFromBeginning(c, topic, running);
      Map<TopicPartition, Long> end = tps.isEmpty() ? Map.of() : c.endOffsets(tps);
      markCaughtUpAt(c, end);
      // Parts are kept until their manifest comes; any not seen here are read back by offset.
      CheckpointAssembler assembler = new CheckpointAssembler();
      try (CheckpointLog parts = new CheckpointLog(clients, "crema-inference-checkpoint-parts", topic)) {
        while (running.getAsBoolean()) {
          // poll returns as soon as a record arrives (the broker answers a waiting fetch on append):
          // the timeout only bounds how long a stop request waits.
          for (var r : c.poll(Duration.ofMillis(200))) {
            if (r.value() != null) {
              offer(r.key(), r.partition(), r.offset(), r.value(), assembler, parts);
            }
          }
          markCaughtUpAt(c, end);
        }
      }
    }
  }

  /**
   * Considers one record of the checkpoint topic: a whole checkpoint, or the manifest that
   * completes one in parts, is loaded when it is newer than what is served and verifies.
   */
  void offer(String key, int partition, long offset, byte[] value, CheckpointAssembler assembler,
      CheckpointParts.PartReader parts) {
    Checkpoint record;
    try {
      record = assembler.offer(partition, offset, value);
    } catch (IllegalArgumentException e) {
      reject(key, e.getMessage());
      return;
    }
    if (record == null) {
      return; // a part: its manifest decides
    }
    ServedModel current = served.get(record.getModel());
    if (current != null && current.checkpoint.getSha256().equals(record.getSha256())) {
      return;
    }
    if (current != null && current.checkpoint.getRun().equals(record.getRun())
        && current.checkpoint.getIteration() > record.getIteration()) {
      return;
    }
    Checkpoint c = record;
    ServedModel next;
    try {
      c = assembler.complete(record, parts);
      next = ServedModel.load(c, config.getMaxBatch(), meters);
    } catch (RuntimeException e) {
      reject(c.getModel(), "checkpoint at iteration " + c.getIteration() + ": " + e.getMessage());
      return;
    }
    ServedModel old = served.put(c.getModel(), next);
    swaps.incrementAndGet();
    meters.loaded(c.getModel(), old != null);
    meters.version(c.getModel(), this);
    LOG.info("serving {} from checkpoint at iteration {}", c.getModel(), c.getIteration());
    if (old != null) {
      // Off this thread: closing waits for the old model's requests in flight, and the next
      // checkpoint on the topic must not wait for them.
      retirer.execute(old::close);
    }
  }

  /** Opens {@link #caughtUp} once {@code c} has read past every end offset in {@code end}. */
  private void markCaughtUpAt(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
    if (caughtUp.getCount() == 0) {
      return;
    }
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return;
      }
    }
    caughtUp.countDown();
    LOG.info("caught up on {}: {} model(s) served, {} checkpoint(s) rejected; taking requests",
        config.getCheckpointTopic(), served.size(), rejected.get());
  }

  /**
   * Whether every checkpoint that was on the topic when this service started has been loaded or
   * rejected: before that, a model that is not served yet may still be on its way.
   */
  public boolean caughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Waits until {@link #caughtUp()}, or {@code running} says to stop; returns whether caught up. */
  boolean awaitCaughtUp(BooleanSupplier running) throws InterruptedException {
    while (running.getAsBoolean()) {
      if (caughtUp.await(200, TimeUnit.MILLISECONDS)) {
        return true;
      }
    }
    return caughtUp();
  }

  private void reject(String model, String why) {
    rejected.incrementAndGet();
    meters.rejected(model);
    LOG.warn("rejected checkpoint for {}: {}", model, why);
  }

  public Optional<ServedModel> get(String model) {
    return Optional.ofNullable(served.get(model));
  }

  public Map<String, ServedModel> all() {
    return Map.copyOf(served);
  }

  public long rejectedCheckpoints() {
    return rejected.get();
  }

  public long swaps() {
    return swaps.get();
  }

  @PreDestroy
  void stop() {
    follower.close();
    retirer.shutdown();
    try {
      retirer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    served.values().forEach(ServedModel::close);
  }
}
