package crema.trainer;

import caffe.Caffe.Datum;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.KafkaClients;
import crema.engine.DataException;
import crema.engine.data.DatumCursor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * A Data layer's source on a topic of Datum records ({@code backend: KAFKA}, {@code source:} the
 * topic), read in offset order and cycled like Caffe's LMDB cursor: at the end of the log it starts
 * again from the beginning, so rows appended meanwhile join the next pass.
 *
 * <p>Datum topics have one partition (the pipeline creates them so), which makes the position
 * simply the next offset to read: the trainer stores it in its checkpoints and seeks back to it.
 */
final class KafkaDatumCursor implements DatumCursor {
  private static final Duration POLL = Duration.ofMillis(100);

  private final String topic;
  private final TopicPartition partition;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Deque<ConsumerRecord<String, byte[]>> buffer = new ArrayDeque<>();
  private final long waitMs;
  private long next;
  /** The log end as last asked; asked again only when the cursor reaches it (an RPC per pass, not per poll). */
  private long knownEnd = -1;

  /**
   * Per topic, the records between its newest cursor and the topic's end as of the newest fetch.
   * One gauge per topic reads it: Micrometer keeps the first gauge registered under a name and
   * tags, so a gauge bound to one cursor would go stale when the next run opens another.
   */
  private final KafkaClientMetrics kafkaMeters;
  private static final Map<String, Double> LAG = new ConcurrentHashMap<>();

  KafkaDatumCursor(KafkaClients clients, String topic, long waitMs, MeterRegistry meters) {
    this.topic = topic;
    this.waitMs = waitMs;
    LAG.putIfAbsent(topic, 0.0);
    Gauge.builder("crema.trainer.consumer.lag", LAG, m -> m.getOrDefault(topic, 0.0))
        .description("Records of a Data layer's topic not yet read in the current pass")
        .tag("topic", topic).strongReference(true).register(meters);
    // A fetch parked at the end of the log would hold the wrap to the beginning for the broker's
    // fetch.max.wait.ms (500 ms by default) on every pass: keep it short.
    this.consumer = clients.consumer("crema-trainer-" + topic, Map.of("fetch.max.wait.ms", 5));
    // The Kafka client's own metrics (kafka_consumer_*: fetch rate and latency, records lag).
    this.kafkaMeters = new KafkaClientMetrics(consumer);
    kafkaMeters.bindTo(meters);
    List<PartitionInfo> parts = waitForTopic();
    if (parts.size() != 1) {
      consumer.close();
      throw new DataException("topic '" + topic + "' has " + parts.size() + " partitions; Datum topics"
          + " read by a Data layer need exactly one, so that the read position is one offset");
    }
    partition = new TopicPartition(topic, 0);
    consumer.assign(List.of(partition));
    next = beginning();
    consumer.seek(partition, next);
  }

  private List<PartitionInfo> waitForTopic() {
    long deadline = System.currentTimeMillis() + waitMs;
    while (true) {
      List<PartitionInfo> parts = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (parts != null && !parts.isEmpty()) {
        return parts;
      }
      if (System.currentTimeMillis() > deadline) {
        consumer.close();
        throw new DataException("topic '" + topic + "' does not exist (ingest a dataset into it first)");
      }
      sleep();
    }
  }

  private long beginning() {
    return consumer.beginningOffsets(List.of(partition)).get(partition);
  }

  private long end() {
    return consumer.endOffsets(List.of(partition)).get(partition);
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataException("interrupted while waiting for Kafka");
    }
  }

  /** The record at {@link #next}, fetching (and wrapping to the beginning) as needed. */
  private ConsumerRecord<String, byte[]> head() {
    long deadline = System.currentTimeMillis() + waitMs;
    while (buffer.isEmpty()) {
      if (next >= knownEnd) {
        knownEnd = end();
      }
      if (next >= knownEnd) {
        long start = beginning();
        if (start >= knownEnd) {
          if (System.currentTimeMillis() > deadline) {
            throw new DataException("topic '" + topic + "' holds no records");
          }
          sleep();
          continue;
        }
        next = start;
        consumer.seek(partition, next);
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL).records(partition)) {
        if (r.offset() >= next) {
          buffer.add(r);
        }
      }
      long behind = consumer.currentLag(partition).orElse(-1);
      if (behind >= 0) {
        LAG.put(topic, (double) (behind + buffer.size()));
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new DataException("interrupted while reading " + topic);
      }
    }
    return buffer.peekFirst();
  }

  private Datum parse(ConsumerRecord<String, byte[]> r) {
    try {
      return Datum.parseFrom(r.value());
    } catch (InvalidProtocolBufferException e) {
      throw new DataException("topic '" + topic + "', offset " + r.offset() + ": not a Datum: " + e.getMessage());
    }
  }

  @Override
  public Datum peek() {
    return parse(head());
  }

  @Override
  public Datum next() {
    ConsumerRecord<String, byte[]> r = head();
    buffer.removeFirst();
    next = r.offset() + 1;
    return parse(r);
  }

  /** The next offset to read. */
  @Override
  public long position() {
    return next;
  }

  @Override
  public void seek(long offset) {
    buffer.clear();
    next = offset;
    consumer.seek(partition, offset);
  }

  @Override
  public String key() {
    return buffer.isEmpty() ? "" : String.valueOf(buffer.peekFirst().key());
  }

  @Override
  public String source() {
    return topic;
  }

  @Override
  public void close() {
    kafkaMeters.close();
    consumer.close();
  }
}
