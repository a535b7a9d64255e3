package crema.inference;

import crema.bus.CheckpointLog;
import crema.bus.ConsumerLoop;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every checkpoint on the checkpoint topic, by model, as an index: where each lies (partition and
 * offset) and what it is (run, iteration, metrics, size, sha256), in the order this service met
 * them. The bytes stay on the topic; {@link #read} fetches one back by its offset (a checkpoint in
 * parts is indexed by its manifest).
 */
@Requires(property = "crema.services.inference", notEquals = "false")
@Singleton
public class CheckpointIndex {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointIndex.class);

  /** One checkpoint on the topic. {@code id} ("partition-offset") names it in event streams. */
  public record Entry(String model, String run, int iteration, Map<String, Double> metrics, int size, String sha256,
      long createdMs, int partition, long offset) {
    public String id() {
      return partition + "-" + offset;
    }
  }

  private final KafkaClients clients;
  private final InferenceConfig config;
  private final Map<String, List<Entry>> byModel = new ConcurrentHashMap<>();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Map<String, Checkpoint> recent = new LinkedHashMap<>(4, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Checkpoint> eldest) {
      return size() > 2;
    }
  };
  private ConsumerLoop follower;
  private CheckpointLog reader;
  private volatile long version;

  public CheckpointIndex(KafkaClients clients, InferenceConfig config) {
    this.clients = clients;
    this.config = config;
  }

  @PostConstruct
  void start() {
    follower = ConsumerLoop.start("checkpoint index", () -> clients.consumer("crema-inference-checkpoint-index"),
        this::follow);
  }

  private void follow(KafkaConsumer<String, byte[]> c, BooleanSupplier running) throws InterruptedException {
    String topic = config.getCheckpointTopic();
    List<TopicPartition> tps = TopicLog.assignFromBeginning(c, topic, running);
    while (running.getAsBoolean()) {
      for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
        if (r.value() != null) {
          add(r);
        }
      }
    }
  }

  private void add(ConsumerRecord<String, byte[]> r) {
    String where = r.partition() + "-" + r.offset();
    if (seen.contains(where)) {
      return; // read again after a reconnect
    }
    Checkpoint c;
    try {
      c = CheckpointParts.parse(r.value(), r.topic() + "/" + r.partition() + "@" + r.offset());
    } catch (IllegalArgumentException e) {
      LOG.warn("{}", e.getMessage());
      return;
    }
    if (c.hasPart()) {
      return; // its manifest is the entry: parts without one (a torn write) are no checkpoint
    }
    // A manifest stands for the whole checkpoint: its size is the whole's.
    int size = c.hasManifest() ? (int) Math.min(Integer.MAX_VALUE, c.getManifest().getSize()) : r.value().length;
    Entry e = new Entry(c.getModel(), c.getRun(), c.getIteration(), new TreeMap<>(c.getMetricsMap()),
        size, c.getSha256(), c.getCreatedMs(), r.partition(), r.offset());
    seen.add(where);
    byModel.computeIfAbsent(c.getModel(), m -> java.util.Collections.synchronizedList(new ArrayList<>())).add(e);
    version++;
  }

  /** The model's checkpoints in the order met (within a run, the topic's order). */
  public List<Entry> of(String model) {
    List<Entry> l = byModel.get(model);
    if (l == null) {
      return List.of();
    }
    synchronized (l) {
      return List.copyOf(l);
    }
  }

  /** Changes whenever a checkpoint is added. */
  public long version() {
    return version;
  }

  /** The newest checkpoint of {@code model} at {@code iteration} (of {@code run}, when given). */
  public Optional<Entry> find(String model, int iteration, String run) {
    List<Entry> l = of(model);
    for (int i = l.size() - 1; i >= 0; i--) {
      Entry e = l.get(i);
      if (e.iteration() == iteration && (run == null || run.equals(e.run()))) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  /**
   * The checkpoint of an entry, read back from the topic by its offset (and, for one in parts,
   * its parts by theirs), reassembled and verified.
   */
  public synchronized Checkpoint read(Entry e) {
    Checkpoint cached = recent.get(e.id());
    if (cached != null) {
      return cached;
    }
    if (reader == null) {
      reader = new CheckpointLog(clients, "crema-inference-checkpoint-reader", config.getCheckpointTopic());
    }
    Checkpoint c;
    try {
      c = reader.checkpointAt(e.partition(), e.offset());
    } catch (IllegalArgumentException x) {
      throw new IllegalStateException("the checkpoint at " + config.getCheckpointTopic() + "-" + e.partition() + "@"
          + e.offset() + " does not verify: " + x.getMessage(), x);
    }
    recent.put(e.id(), c);
    return c;
  }

  @PreDestroy
  synchronized void stop() {
    follower.close();
    if (reader != null) {
      reader.close();
    }
  }
}
