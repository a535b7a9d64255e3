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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * A Data layer's source on a topic of Datum records ({@code backend: KAFKA}, {@code source:} the
 * topic), every partition read in one deterministic interleave and cycled like Caffe's LMDB
 * cursor: at the end of a pass it starts again from the beginning, so rows appended meanwhile join
 * the next pass (within 200 ms: see {@link #current}).
 *
 * <p><b>The interleave.</b> A topic of P partitions is read in the order of its records' grid
 * points, {@code offset × P + partition}: offset 0 of partitions 0, 1, ..., P-1, then offset 1 of
 * each, and so on; a partition with no record at an offset is passed over. The order depends on
 * nothing but the records' offsets, so two runs read the same sequence, and the read position is
 * one number, the grid point of the next record to read ({@link #position()}; for one partition
 * simply the next offset, as before partitions): the next offset of partition q is the smallest
 * with {@code offset × P + q ≥ position} ({@link #offsetIn}). The trainer stores the position in
 * its solver state and the per-partition offsets beside it in the checkpoint; seeking back to the
 * position seeks every partition. Rows appended to a partition behind the read position (at grid
 * points already passed) join the next pass; rows at grid points ahead of it join this one once
 * the cursor has asked for the log's end, as with one partition.
 *
 * <p>For the Data layer's cache a record's key is its grid point less the first grid point this
 * cursor found ({@link #recordKey()}): the same on every pass, however far retention has moved the
 * log's start, and dense when the partitions are filled evenly (ingest spreads rows by key).
 * {@link #skip()} passes a record the layer kept without fetching it; a partition's consumer is
 * moved to its read position only when one of its records must be fetched again.
 */
final class KafkaDatumCursor implements DatumCursor {
  private static final Duration POLL = Duration.ofMillis(100);
  /** Records fetched ahead per partition before that partition's fetching pauses. */
  private static final int AHEAD = 2048;

  private final String topic;
  private final int partitions;
  private final TopicPartition[] tps;
  private final KafkaConsumer<String, byte[]> consumer;
  /** Per partition, records fetched and not yet read, in offset order. */
  private final ArrayDeque<ConsumerRecord<String, byte[]>>[] buffer;
  private final long waitMs;
  /** The grid point of the log's first record when this cursor opened: record keys count from it. */
  private final long firstGrid;
  /** The grid point of the next record to read. */
  private long pos;
  /**
   * Per partition, an offset below which (down to the position's offset) it holds no record, as a
   * fetch found (offsets without a record: transaction markers); 0 when nothing is known.
   */
  private final long[] floor;
  /** Records skipped since the lag gauge was last set. */
  private int skipped;
  /** The log ends as last asked (asked again only when a pass runs out: an RPC per pass, not per poll). */
  private final long[] knownEnd;
  private boolean boundsKnown;
  /** The log starts as last asked, where a pass wraps to. */
  private final long[] knownStart;
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

  @SuppressWarnings("unchecked")
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
    List<PartitionInfo> parts = new ArrayList<>(waitForTopic());
    parts.sort(Comparator.comparingInt(PartitionInfo::partition));
    partitions = parts.size();
    tps = new TopicPartition[partitions];
    for (int q = 0; q < partitions; q++) {
      if (parts.get(q).partition() != q) {
        consumer.close();
        throw new DataException("topic '" + topic + "': partitions " + parts.stream().map(PartitionInfo::partition)
            .toList() + " are not numbered 0 to " + (partitions - 1));
      }
      tps[q] = new TopicPartition(topic, q);
    }
    buffer = new ArrayDeque[partitions];
    for (int q = 0; q < partitions; q++) {
      buffer[q] = new ArrayDeque<>();
    }
    floor = new long[partitions];
    knownEnd = new long[partitions];
    knownStart = new long[partitions];
    consumer.assign(Arrays.asList(tps));
    askStarts();
    pos = wrapPoint();
    firstGrid = pos;
    for (int q = 0; q < partitions; q++) {
      consumer.seek(tps[q], knownStart[q]);
    }
  }

  /**
   * The offset of partition {@code partition} that a cursor at grid point {@code position} reads
   * next from it, on a topic of {@code partitions} partitions: the smallest offset whose grid point
   * is at or after the position. What a checkpoint records per partition.
   */
  static long offsetIn(long position, int partition, int partitions) {
    return Math.max(0, Math.floorDiv(position - partition + partitions - 1, partitions));
  }

  /** The grid point of a record: its place in the interleave. */
  static long gridPoint(long offset, int partition, int partitions) {
    return offset * partitions + partition;
  }

  /** The partitions read. */
  int partitions() {
    return partitions;
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

  private void askStarts() {
    Map<TopicPartition, Long> b = consumer.beginningOffsets(Arrays.asList(tps));
    for (int q = 0; q < partitions; q++) {
      knownStart[q] = b.get(tps[q]);
    }
  }

  private void askEnds() {
    Map<TopicPartition, Long> e = consumer.endOffsets(Arrays.asList(tps));
    for (int q = 0; q < partitions; q++) {
      knownEnd[q] = Math.max(knownEnd[q], e.get(tps[q]));
    }
    boundsKnown = true;
    boundsAskedAt = System.nanoTime();
  }

  /** Where a pass starts: the grid point of offset min(start) of partition 0. */
  private long wrapPoint() {
    long min = Long.MAX_VALUE;
    for (long s : knownStart) {
      min = Math.min(min, s);
    }
    return gridPoint(min, 0, partitions);
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataException("interrupted while waiting for Kafka");
    }
  }

  /** The smallest offset of partition {@code q} the pass may still read (it may hold no record). */
  private long lower(int q) {
    return Math.max(Math.max(offsetIn(pos, q, partitions), knownStart[q]), floor[q]);
  }

  /** Partition {@code q}'s next offset in this pass: its first fetched record's, else its lower bound. */
  private long offsetAt(int q) {
    long low = lower(q);
    ArrayDeque<ConsumerRecord<String, byte[]>> b = buffer[q];
    while (!b.isEmpty() && b.peekFirst().offset() < low) {
      b.removeFirst();
    }
    return b.isEmpty() ? low : b.peekFirst().offset();
  }

  /** The partition of the next record in the interleave, as far as the known ends say; -1 at a pass end. */
  private int choose() {
    if (!boundsKnown) {
      return -1;
    }
    int best = -1;
    long bestGrid = Long.MAX_VALUE;
    for (int q = 0; q < partitions; q++) {
      long o = offsetAt(q);
      if (o < knownEnd[q]) {
        long g = gridPoint(o, q, partitions);
        if (g < bestGrid) {
          bestGrid = g;
          best = q;
        }
      }
    }
    return best;
  }

  /**
   * The partition of the next record; at the end of a pass (as last asked) asks for the ends
   * again and, when nothing was appended ahead of the position, wraps to the beginning; waits
   * while the topic is empty.
   *
   * <p>The log's bounds asked less than {@link #BOUNDS_TTL_NS} ago are used as they are: a pass
   * served from the Data layer's cache takes milliseconds, and two requests to the broker at every
   * pass end cost the layer a fifth of its speed (measured). Records appended therefore join a pass
   * that starts at most that long after the bounds were last asked, not always the very next one.
   */
  private int current() {
    int q = choose();
    if (q >= 0) {
      return q;
    }
    long deadline = System.currentTimeMillis() + waitMs;
    boolean ask = !boundsKnown || System.nanoTime() - boundsAskedAt >= BOUNDS_TTL_NS;
    while (true) {
      if (ask) {
        askEnds();
        q = choose();
        if (q >= 0) {
          return q;
        }
        askStarts();
      }
      ask = true;
      boolean empty = true;
      for (int p = 0; p < partitions; p++) {
        empty &= knownStart[p] >= knownEnd[p];
      }
      if (empty) {
        if (System.currentTimeMillis() > deadline) {
          throw new DataException("topic '" + topic + "' holds no records");
        }
        sleep();
        continue;
      }
      pos = wrapPoint();
      for (int p = 0; p < partitions; p++) {
        buffer[p].clear();
        floor[p] = 0;
      }
      q = choose();
      if (q >= 0) {
        return q;
      }
    }
  }

  /**
   * Fetches for every partition the pass still reads whose fetched records are used up, from its
   * lower bound; the others are paused, so that a partition far ahead does not fill memory.
   */
  private void fetch() {
    List<TopicPartition> wanted = new ArrayList<>();
    List<TopicPartition> paused = new ArrayList<>();
    for (int q = 0; q < partitions; q++) {
      long low = offsetAt(q);
      if (low < knownEnd[q] && buffer[q].size() < AHEAD) {
        long from = buffer[q].isEmpty() ? low : buffer[q].peekLast().offset() + 1;
        // Skipped records leave the consumer behind the read position; a wrap leaves it ahead.
        if (consumer.position(tps[q]) != from) {
          consumer.seek(tps[q], from);
        }
        wanted.add(tps[q]);
      } else {
        paused.add(tps[q]);
      }
    }
    consumer.pause(paused);
    consumer.resume(wanted);
    for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
      int q = r.partition();
      ArrayDeque<ConsumerRecord<String, byte[]>> b = buffer[q];
      // Records past the known end (appended since it was asked) wait in the buffer: the pass
      // ends where the partitions ended, and only asking again at its end lets them in.
      if (r.offset() >= lower(q) && (b.isEmpty() || r.offset() > b.peekLast().offset())) {
        b.add(r);
      }
    }
    long behind = 0;
    for (TopicPartition tp : wanted) {
      int q = tp.partition();
      long fetched = consumer.position(tp);
      if (buffer[q].isEmpty() && fetched > lower(q)) {
        // Offsets without a record (transaction markers): its next record is at or after these.
        floor[q] = fetched;
      }
    }
    for (int q = 0; q < partitions; q++) {
      behind += Math.max(0, knownEnd[q] - lower(q));
    }
    LAG.put(topic, (double) behind);
    if (Thread.currentThread().isInterrupted()) {
      throw new DataException("interrupted while reading " + topic);
    }
  }

  /** The record at the cursor, fetching (and wrapping to the beginning) as needed. */
  private ConsumerRecord<String, byte[]> head() {
    while (true) {
      int q = current();
      if (!buffer[q].isEmpty()) {
        return buffer[q].peekFirst();
      }
      fetch();
    }
  }

  private Datum parse(ConsumerRecord<String, byte[]> r) {
    try {
      return Datum.parseFrom(r.value());
    } catch (InvalidProtocolBufferException e) {
      throw new DataException("topic '" + topic + "', partition " + r.partition() + ", offset " + r.offset()
          + ": not a Datum: " + e.getMessage());
    }
  }

  @Override
  public Datum peek() {
    return parse(head());
  }

  @Override
  public Datum next() {
    ConsumerRecord<String, byte[]> r = head();
    buffer[r.partition()].removeFirst();
    pos = gridPoint(r.offset(), r.partition(), partitions) + 1;
    return parse(r);
  }

  /** The fetched record's bytes, as Kafka returned them. */
  @Override
  public ByteBuffer peekBytes() {
    return ByteBuffer.wrap(head().value());
  }

  /**
   * The record's grid point less the first grid point found; that of the record fetched at the
   * cursor when there is one (offsets may have gaps), else of the next offset the position names.
   * -1 for a position before the first grid point (a seek there; never kept).
   */
  @Override
  public long recordKey() {
    int q = current();
    long g = gridPoint(offsetAt(q), q, partitions);
    return g >= firstGrid ? g - firstGrid : -1;
  }

  /** Past the record {@link #recordKey()} named, fetched or not. */
  @Override
  public void skip() {
    int q = current();
    long o = offsetAt(q);
    if (!buffer[q].isEmpty()) {
      buffer[q].removeFirst();
    }
    pos = gridPoint(o, q, partitions) + 1;
    if (++skipped >= 4096) {
      // The gauge follows reads from memory too: the records left in this pass.
      skipped = 0;
      long behind = 0;
      for (int p = 0; p < partitions; p++) {
        behind += Math.max(0, knownEnd[p] - lower(p));
      }
      LAG.put(topic, (double) behind);
    }
  }

  /** The grid point of the next record to read ({@code offset × partitions + partition}). */
  @Override
  public long position() {
    return pos;
  }

  /** Reads next from grid point {@code position}: every partition from its {@link #offsetIn offset}. */
  @Override
  public void seek(long position) {
    pos = position;
    for (int q = 0; q < partitions; q++) {
      buffer[q].clear();
      floor[q] = 0;
    }
  }

  @Override
  public String key() {
    int q = choose();
    return q < 0 || buffer[q].isEmpty() ? "" : String.valueOf(buffer[q].peekFirst().key());
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
