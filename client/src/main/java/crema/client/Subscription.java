package crema.client;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Records of one topic read from its beginning, every partition, without a consumer group:
 * decoded, filtered and handed out one at a time by {@link #next}. Without follow it ends at the
 * end the topic had when it started; with follow it waits for new records until closed.
 * {@link #close} may be called from any thread (a Ctrl-C hook, say): a waiting {@link #next}
 * returns null.
 *
 * @param <T> what a record becomes
 */
public final class Subscription<T> implements AutoCloseable {
  /** Turns a record into a value, null to skip it; throws IllegalArgumentException to reject it. */
  public interface Decoder<T> {
    T decode(ConsumerRecord<String, byte[]> record);
  }

  private final KafkaConsumer<String, byte[]> consumer;
  private final String topic;
  private final boolean follow;
  private final Decoder<T> decoder;
  private final Consumer<String> onRejected;
  private final ArrayDeque<T> ready = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private volatile boolean closed;
  private boolean consumerClosed;
  private List<TopicPartition> partitions;
  private Map<TopicPartition, Long> end = Map.of();
  private final Map<TopicPartition, Long> read = new HashMap<>();
  private long rejected;
  private long started;

  Subscription(KafkaConsumer<String, byte[]> consumer, String topic, boolean follow, Decoder<T> decoder,
      Consumer<String> onRejected) {
    this.consumer = consumer;
    this.topic = topic;
    this.follow = follow;
    this.decoder = decoder;
    this.onRejected = onRejected;
  }

  /**
   * The next value, waiting up to {@code timeout} for one; null when none came in that time, when
   * the subscription has ended ({@link #isDone}) or was closed.
   */
  public T next(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (ready.isEmpty() && !closed && !isDone()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        try {
          if (partitions == null) {
            assign(Duration.ofNanos(left));
            continue;
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofNanos(Math.min(left, 200_000_000L)))) {
            read.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
            if (r.value() == null) {
              continue;
            }
            try {
              T v = decoder.decode(r);
              if (v != null) {
                ready.add(v);
              }
            } catch (IllegalArgumentException e) {
              rejected++;
              onRejected.accept(topic + "/" + r.partition() + "@" + r.offset() + ": " + e.getMessage());
            }
          }
          for (TopicPartition tp : partitions) {
            read.put(tp, Math.max(read.getOrDefault(tp, 0L), consumer.position(tp)));
          }
        } catch (WakeupException e) {
          // close() from another thread.
        }
      }
      return ready.poll();
    } finally {
      if (closed) {
        closeConsumer();
      }
      lock.unlock();
    }
  }

  private void assign(Duration wait) {
    List<PartitionInfo> info;
    try {
      info = consumer.partitionsFor(topic, Duration.ofMillis(Math.max(1000, Math.min(wait.toMillis(), 5000))));
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      // The broker has not answered yet, or the topic does not exist yet: try again, for a while.
      info = List.of();
    }
    if (info == null || info.isEmpty()) {
      if (started == 0) {
        started = System.nanoTime();
      }
      // Without follow, a topic still missing after 15 s has no records.
      if (!follow && System.nanoTime() - started > 15_000_000_000L) {
        partitions = List.of();
        return;
      }
      try {
        Thread.sleep(Math.min(500, Math.max(1, wait.toMillis())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closed = true;
      }
      return;
    }
    List<TopicPartition> tps = info.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    end = consumer.endOffsets(tps);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(tps);
    begin.forEach(read::put);
    partitions = tps;
  }

  /** Whether every record that was on the topic when the subscription began has been read. */
  public boolean caughtUp() {
    return partitions != null && partitions.stream().allMatch(tp -> read.getOrDefault(tp, 0L) >= end.get(tp));
  }

  /** Without follow: caught up and nothing left to hand out. With follow: only once closed. */
  public boolean isDone() {
    return closed || (!follow && caughtUp() && ready.isEmpty());
  }

  /** Records read so far of those that were on the topic at the start (for a progress line). */
  public long recordsRead() {
    long n = 0;
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      n += Math.min(e.getValue(), read.getOrDefault(e.getKey(), 0L));
    }
    return n;
  }

  /** The end offsets summed over partitions when the subscription began (0 before it has started). */
  public long recordsAtStart() {
    return end.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Records that could not be decoded or did not verify, each reported to the rejection handler. */
  public long rejected() {
    return rejected;
  }

  /** Stops the subscription; safe from any thread, and more than once. */
  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    if (lock.tryLock()) {
      try {
        closeConsumer();
      } finally {
        lock.unlock();
      }
    }
  }

  private void closeConsumer() {
    if (!consumerClosed) {
      consumerClosed = true;
      consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }
}
