package crema.visualizer;

import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.ConsumerLoop;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicSetup;
import crema.proto.Checkpoint;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import crema.proto.Job;
import crema.proto.TrainEvent;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's picture of the pipeline, rebuilt from the topics: every partition of crema.jobs,
 * crema.train-events, crema.checkpoints, crema.datasets and crema.dead-letter is read from its
 * beginning and then followed. Nothing is stored elsewhere, so a restarted visualizer shows what it
 * showed before (Kafka is the source of truth); memory stays bounded because curves downsample
 * and checkpoint weights are not kept here, only where their records lie.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Context
public class PipelineView {
  private static final Logger LOG = LoggerFactory.getLogger(PipelineView.class);

  private final KafkaClients clients;
  private final VisualizerConfig config;
  private final Map<String, Run> runs = new LinkedHashMap<>();
  private final Map<String, Dataset> datasets = new LinkedHashMap<>();
  private final AtomicLong version = new AtomicLong();
  private volatile boolean caughtUp;
  private ConsumerLoop follower;
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  private final MeterRegistry meters;

  public PipelineView(KafkaClients clients, VisualizerConfig config, MeterRegistry meters) {
    this.clients = clients;
    this.config = config;
    this.meters = meters;
    Gauge.builder("crema.visualizer.runs", runs, Map::size)
        .description("Runs rebuilt from the topics").register(meters);
  }

  @PostConstruct
  void start() {
    topics.ensureAtStart(TopicKind.JOBS.named(config.getJobsTopic()),
        TopicKind.TRAIN_EVENTS.named(config.getEventsTopic()),
        TopicKind.CHECKPOINTS.named(config.getCheckpointTopic()),
        TopicKind.DATASETS.named(config.getDatasetsTopic()),
        TopicKind.DEAD_LETTER.named(config.getDeadLetterTopic()));
    follower = ConsumerLoop.start("visualizer: following the topics",
        () -> clients.consumer("crema-visualizer", Map.of("max.poll.records", 50)), this::follow,
        e -> {
          // Starting again from the topics' beginnings: what was rebuilt so far goes.
          synchronized (this) {
            runs.clear();
            datasets.clear();
          }
          version.incrementAndGet();
        });
  }

  @PreDestroy
  void stop() {
    follower.close();
  }

  /** Changes whenever anything shown changes: server push sends when it moves. */
  long version() {
    return version.get();
  }

  /** True once every followed partition has been read to the end it had when first seen. */
  boolean caughtUp() {
    return caughtUp;
  }

  synchronized List<Run.Summary> runs() {
    List<Run.Summary> out = new ArrayList<>();
    runs.values().forEach(r -> out.add(r.summary()));
    out.sort(Comparator.comparingLong(Run.Summary::startedMs).reversed());
    return out;
  }

  synchronized Optional<Run.Detail> run(String id) {
    return Optional.ofNullable(runs.get(id)).map(Run::detail);
  }

  synchronized long runVersion(String id) {
    Run r = runs.get(id);
    return r == null ? -1 : r.version;
  }

  /** The prototxt of a run's net: {@code deploy} or the train/test net. */
  synchronized Optional<String> netText(String id, boolean deploy) {
    Run r = runs.get(id);
    if (r == null) {
      return Optional.empty();
    }
    String text = deploy ? r.deploy() : r.net;
    return text.isEmpty() ? Optional.empty() : Optional.of(text);
  }

  synchronized Optional<Run.CheckpointRef> checkpoint(String id, int iteration) {
    Run r = runs.get(id);
    return r == null ? Optional.empty() : Optional.ofNullable(r.checkpoint(iteration));
  }

  synchronized List<Dataset.View> datasets() {
    return datasets.values().stream().map(Dataset::view).toList();
  }

  /** The label names the pipeline recorded for a dataset (empty when none, or no such dataset). */
  synchronized List<String> datasetLabels(String name) {
    Dataset d = datasets.get(name);
    return d == null ? List.of() : d.view().labels();
  }

  private Run runOf(String id) {
    return runs.computeIfAbsent(id, k -> new Run(k, config.getMaxCurvePoints()));
  }

  private Dataset datasetOf(String name) {
    return datasets.computeIfAbsent(name, k -> new Dataset(k, config.getDeadLettersKept()));
  }

  private void follow(KafkaConsumer<String, byte[]> c, BooleanSupplier running) throws InterruptedException {
    List<String> topics = List.of(config.getJobsTopic(), config.getEventsTopic(), config.getCheckpointTopic(),
        config.getDatasetsTopic(), config.getDeadLetterTopic());
    // The Kafka client's own metrics (kafka.consumer.*: fetch rates, lag, errors).
    try (var kafkaMeters = new KafkaClientMetrics(c)) {
      kafkaMeters.bindTo(meters);
      Set<TopicPartition> assigned = new HashSet<>();
      Map<TopicPartition, Long> initialEnds = new LinkedHashMap<>();
      long lastRefresh = 0;
      while (running.getAsBoolean()) {
        if (System.currentTimeMillis() - lastRefresh > 2000) {
          // Topics appear as the pipeline first writes them: look again every two seconds.
          lastRefresh = System.currentTimeMillis();
          List<TopicPartition> found = new ArrayList<>();
          Map<String, List<PartitionInfo>> all = c.listTopics(Duration.ofSeconds(10));
          for (String t : topics) {
            for (PartitionInfo p : all.getOrDefault(t, List.of())) {
              found.add(new TopicPartition(t, p.partition()));
            }
          }
          if (!assigned.containsAll(found)) {
            List<TopicPartition> added = found.stream().filter(tp -> !assigned.contains(tp)).toList();
            assigned.addAll(found);
            c.assign(assigned);
            c.seekToBeginning(added);
            initialEnds.putAll(c.endOffsets(added));
          }
          if (!caughtUp && !initialEnds.isEmpty() && initialEnds.entrySet().stream()
              .allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
            caughtUp = true;
            LOG.info("visualizer: read the topics to their ends: {} runs, {} datasets", runs.size(), datasets.size());
          }
        }
        if (assigned.isEmpty()) {
          Thread.sleep(200);
          continue;
        }
        var records = c.poll(Duration.ofMillis(200));
        if (!records.isEmpty()) {
          synchronized (this) {
            for (ConsumerRecord<String, byte[]> r : records) {
              apply(r);
            }
          }
          version.incrementAndGet();
        }
      }
    }
  }

  private void apply(ConsumerRecord<String, byte[]> r) {
    if (r.value() == null) {
      return;  // a tombstone on a compacted topic
    }
    try {
      String topic = r.topic();
      if (topic.equals(config.getEventsTopic())) {
        TrainEvent e = TrainEvent.parseFrom(r.value());
        runOf(e.getRun()).onEvent(e);
      } else if (topic.equals(config.getCheckpointTopic())) {
        Checkpoint cp = Checkpoint.parseFrom(r.value());
        // A checkpoint in parts is seen by its manifest (its weights are read back when drawn).
        if (!cp.hasPart()) {
          long bytes = cp.hasManifest() ? cp.getManifest().getSize() : r.value().length;
          runOf(cp.getRun()).onCheckpoint(cp, r.partition(), r.offset(), (int) Math.min(Integer.MAX_VALUE, bytes));
        }
      } else if (topic.equals(config.getJobsTopic())) {
        Job j = Job.parseFrom(r.value());
        if (!j.getId().isEmpty()) {
          runOf(j.getId()).onJob(j, r.timestamp());
        }
      } else if (topic.equals(config.getDatasetsTopic())) {
        DatasetSchema s = DatasetSchema.parseFrom(r.value());
        datasetOf(s.getDataset()).onSchema(s);
      } else if (topic.equals(config.getDeadLetterTopic())) {
        DeadLetter d = DeadLetter.parseFrom(r.value());
        datasetOf(d.getDataset().isEmpty() ? "(unknown)" : d.getDataset()).onDeadLetter(d);
      }
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("visualizer: {}-{}@{} is not a record of its topic ({}); skipped", r.topic(), r.partition(),
          r.offset(), e.getMessage());
    }
  }
}
