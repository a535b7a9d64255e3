package crema.client;

import crema.proto.CheckpointParts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Records of one topic read back by offset: the parts of a checkpoint's manifest that a
 * subscription did not keep (it started after them, or they belong to a checkpoint its query
 * skipped until the manifest). The subscription takes a consumer of its own for each read (reads
 * are rare, one per manifest); {@link #read(KafkaConsumer, String, int, List)} is the same read on
 * a consumer the caller keeps (the services' checkpoint log).
 */
public final class RecordsByOffset implements CheckpointParts.PartReader {
  /** How long a read may go without receiving a record before it fails. */
  private static final Duration STALL = Duration.ofSeconds(30);

  private final Supplier<KafkaConsumer<String, byte[]>> consumers;
  private final String topic;

  RecordsByOffset(Supplier<KafkaConsumer<String, byte[]>> consumers, String topic) {
    this.consumers = consumers;
    this.topic = topic;
  }

  @Override
  public List<byte[]> read(int partition, List<Long> offsets) {
    if (offsets.isEmpty()) {
      return List.of();
    }
    try (KafkaConsumer<String, byte[]> c = consumers.get()) {
      return read(c, topic, partition, offsets);
    }
  }

  /**
   * The values at {@code offsets} of {@code topic}'s {@code partition}, in that order, read with
   * one seek on {@code consumer} (which is assigned that partition and left open).
   *
   * @throws IllegalStateException when a record cannot be read back (deleted by retention) or
   *     nothing arrives for 30 s
   */
  public static List<byte[]> read(KafkaConsumer<String, byte[]> consumer, String topic, int partition,
      List<Long> offsets) {
    if (offsets.isEmpty()) {
      return List.of();
    }
    TopicPartition tp = new TopicPartition(topic, partition);
    Map<Long, Integer> wanted = new HashMap<>();
    for (int i = 0; i < offsets.size(); i++) {
      wanted.put(offsets.get(i), i);
    }
    long first = offsets.stream().mapToLong(Long::longValue).min().getAsLong();
    long last = offsets.stream().mapToLong(Long::longValue).max().getAsLong();
    byte[][] out = new byte[offsets.size()][];
    int found = 0;
    consumer.assign(List.of(tp));
    consumer.seek(tp, first);
    long stalled = System.nanoTime() + STALL.toNanos();
    while (found < out.length) {
      boolean progress = false;
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        progress = true;
        Integer i = wanted.get(r.offset());
        if (i != null && out[i] == null) {
          out[i] = r.value();
          found++;
        }
      }
      if (found < out.length && consumer.position(tp) > last) {
        throw new IllegalStateException("the record at " + tp + "@" + missing(offsets, out)
            + " could not be read back (deleted by retention?)");
      }
      if (progress) {
        stalled = System.nanoTime() + STALL.toNanos();
      } else if (System.nanoTime() > stalled) {
        throw new IllegalStateException("reading " + tp + "@" + missing(offsets, out) + " back received nothing for "
            + STALL.toSeconds() + " s");
      }
    }
    return new ArrayList<>(Arrays.asList(out));
  }

  private static long missing(List<Long> offsets, byte[][] out) {
    for (int i = 0; i < out.length; i++) {
      if (out[i] == null) {
        return offsets.get(i);
      }
    }
    return -1;
  }
}
