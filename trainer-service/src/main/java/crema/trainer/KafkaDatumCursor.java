package crema.trainer;

import caffe.Caffe.Datum;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.KafkaClients;
import crema.engine.DataException;
import crema.engine.data.DatumCursor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.ByteBuffer;
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
 * again from the beginning, so rows appended meanwhile join the next pass (within 200 ms: see
 * {@link #wrapAtEnd}).
 *
 * <p>Datum topics have one partition (the pipeline creates them so), which makes the position
 * simply the next offset to read: the trainer stores it in its checkpoints and seeks back to it.
 *
 * <p>For the Data layer's cache a record's key is its offset less the first offset this cursor
 * found ({@link #recordKey()}): the same on every pass, however far retention has moved the log's
 * start. {@link #skip()} passes a record the layer kept without fetching it; the consumer is moved
 * to the read position only when a record must be fetched again.
 */
final class KafkaDatumCursor implements DatumCursor {
  private static final Duration POLL = Duration.ofMillis(100);

  private final String topic;
  private final TopicPartition partition;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Deque<ConsumerRecord<String, byte[]>> buffer = new ArrayDeque<>();
  private final long waitMs;
  /** The log's start when this cursor opened: record keys count from it. */
  private final long firstOffset;
  private long next;
  /** Records skipped since the lag gauge was last set. */
  private int skipped;
  /** The log end as last asked; asked again only when the cursor reaches it (an RPC per pass, not per poll). */
  private long knownEnd = -1;
  /** The log start as last asked, where a pass wraps to. */
  private long knownStart;
  /** When the bounds were last asked (System.nanoTime). */
  private long boundsAskedAt;
  static final long BOUNDS_TTL_NS = 200_000_000L;

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
    knownStart = next;
    firstOffset = next;
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

  /**
   * At the end of the log (as last asked), asks for the end again and, when nothing was appended,
   * wraps {@link #next} to the beginning; waits while the topic is empty. Drops fetched records
   * the cursor has skipped past.
   *
   * <p>The log's bounds asked less than {@link #BOUNDS_TTL_NS} ago are used as they are: a pass
   * served from the Data layer's cache takes milliseconds, and two requests to the broker at every
   * pass end cost the layer a fifth of its speed (measured). Records appended therefore join a pass
   * that starts at most that long after the bounds were last asked, not always the very next one.
   */
  private void wrapAtEnd() {
    if (next >= knownEnd) {
      long deadline = System.currentTimeMillis() + waitMs;
      boolean ask = knownEnd < 0 || System.nanoTime() - boundsAskedAt >= BOUNDS_TTL_NS;
      while (next >= knownEnd) {
        if (ask) {
          knownEnd = end();
          boundsAskedAt = System.nanoTime();
          if (next < knownEnd) {
            break;
          }
          knownStart = beginning();
        }
        ask = true;
        if (knownStart >= knownEnd) {
          if (System.currentTimeMillis() > deadline) {
            throw new DataException("topic '" + topic + "' holds no records");
          }
          sleep();
          continue;
        }
        next = knownStart;
        buffer.clear();
      }
    }
    while (!buffer.isEmpty() && buffer.peekFirst().offset() < next) {
      buffer.removeFirst();
    }
  }

  /** The record at {@link #next}, fetching (and wrapping to the beginning) as needed. */
  private ConsumerRecord<String, byte[]> head() {
    while (true) {
      wrapAtEnd();
      if (!buffer.isEmpty()) {
        return buffer.peekFirst();
      }
      // Skipped records leave the consumer behind the read position; a wrap leaves it ahead.
      if (consumer.position(partition) != next) {
        consumer.seek(partition, next);
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL).records(partition)) {
        if (r.offset() >= next) {
          buffer.add(r);
        }
      }
      long fetched = consumer.position(partition);
      if (buffer.isEmpty() && fetched > next) {
        // Offsets without a record (transaction markers): the next record is at or after these.
        next = fetched;
      }
      long behind = consumer.currentLag(partition).orElse(-1);
      if (behind >= 0) {
        LAG.put(topic, (double) (behind + buffer.size()));
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new DataException("interrupted while reading " + topic);
      }
    }
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

  /** The fetched record's bytes, as Kafka returned them. */
  @Override
  public ByteBuffer peekBytes() {
    return ByteBuffer.wrap(head().value());
  }

  /**
   * The record's offset less the first offset found; the offset of the record fetched at the
   * cursor when there is one (offsets may have gaps), else the read position. -1 for a position
   * before the first offset (a seek there; never kept).
   */
  @Override
  public long recordKey() {
    wrapAtEnd();
    long offset = buffer.isEmpty() ? next : buffer.peekFirst().offset();
    return offset >= firstOffset ? offset - firstOffset : -1;
  }

  /** Past the record {@link #recordKey()} named, fetched or not. */
  @Override
  public void skip() {
    wrapAtEnd();
    if (!buffer.isEmpty()) {
      next = buffer.removeFirst().offset() + 1;
    } else {
      next++;
    }
    if (++skipped >= 4096) {
      // The gauge follows reads from memory too: the records left in this pass.
      skipped = 0;
      LAG.put(topic, (double) Math.max(0, knownEnd - next));
    }
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
