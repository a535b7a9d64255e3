package crema.bus;

import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The checkpoint topic read back by offset, for the services: the record an index points at (a
 * whole checkpoint, or a manifest and then the parts it names) and the parts of a manifest a
 * follower did not keep ({@link CheckpointParts.PartReader}). One consumer, opened on first use;
 * thread-safe (calls take turns).
 */
public final class CheckpointLog implements CheckpointParts.PartReader, AutoCloseable {
  /** How long a read may go without receiving a record before it fails. */
  private static final Duration STALL = Duration.ofSeconds(30);

  private final KafkaClients clients;
  private final String clientId;
  private final String topic;
  private KafkaConsumer<String, byte[]> consumer;

  public CheckpointLog(KafkaClients clients, String clientId, String topic) {
    this.clients = clients;
    this.clientId = clientId;
    this.topic = topic;
  }

  /**
   * The verified checkpoint at {@code partition}@{@code offset}: a whole one as it is, a manifest
   * reassembled from its parts.
   *
   * @throws IllegalArgumentException when the record is not a checkpoint or does not verify
   * @throws IllegalStateException when it or one of its parts cannot be read back
   */
  public Checkpoint checkpointAt(int partition, long offset) {
    byte[] value = read(partition, List.of(offset)).get(0);
    return CheckpointParts.complete(CheckpointParts.parse(value, topic + "/" + partition + "@" + offset), this);
  }

  /** The values at {@code offsets} of {@code partition}, in that order, read with one seek. */
  @Override
  public synchronized List<byte[]> read(int partition, List<Long> offsets) {
    if (offsets.isEmpty()) {
      return List.of();
    }
    if (consumer == null) {
      consumer = clients.consumer(clientId);
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

  @Override
  public synchronized void close() {
    if (consumer != null) {
      consumer.close();
      consumer = null;
    }
  }
}
