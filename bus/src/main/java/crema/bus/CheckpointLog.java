package crema.bus;

import crema.client.RecordsByOffset;
import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint topic as the services write and read it: {@link #publish} (one record, or parts
 * and then their manifest), and read back by offset: the record an index points at (a
 * whole checkpoint, or a manifest and then the parts it names) and the parts of a manifest a
 * follower did not keep ({@link CheckpointParts.PartReader}). One consumer, opened on first use;
 * thread-safe (calls take turns).
 */
public final class CheckpointLog implements CheckpointParts.PartReader, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointLog.class);

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
   * Publishes {@code c} on {@code topic} under its model's key, as the trainer does, and waits for
   * the broker: one record when its serialized size is at most {@code partBytes}, else its parts
   * (sent without waiting between them) and then, once every part is acknowledged, its manifest
   * naming their offsets, to the same partition. It is published when this returns; parts without
   * a manifest (this fails or the process dies meanwhile) are ignored by every reader.
   *
   * @return where the checkpoint's record (or manifest) lies
   * @throws IllegalStateException when a record is refused or the thread is interrupted
   */
  public static RecordMetadata publish(Producer<String, byte[]> producer, String topic, Checkpoint c,
      int partBytes) {
    try {
      if (CheckpointParts.fitsOneRecord(c, partBytes)) {
        return producer.send(new ProducerRecord<>(topic, c.getModel(), c.toByteArray())).get();
      }
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      CheckpointParts.Upload upload = CheckpointParts.split(c, partBytes, UUID.randomUUID().toString(),
          part -> sent.add(producer.send(new ProducerRecord<>(topic, c.getModel(), part.toByteArray()))));
      List<Long> offsets = new ArrayList<>(sent.size());
      int partition = -1;
      for (Future<RecordMetadata> f : sent) {
        RecordMetadata m = f.get();
        if (partition >= 0 && m.partition() != partition) {
          throw new IllegalStateException("the parts of checkpoint " + c.getIteration() + " of " + c.getModel()
              + " went to partitions " + partition + " and " + m.partition() + " (a custom partitioner?)");
        }
        partition = m.partition();
        offsets.add(m.offset());
      }
      Checkpoint manifest = upload.manifest(partition, offsets);
      RecordMetadata m = producer.send(new ProducerRecord<>(topic, partition, c.getModel(), manifest.toByteArray()))
          .get();
      LOG.info("{}: checkpoint at iteration {} is {} bytes: {} parts at {}-{}@{}..{}, manifest @{}", c.getModel(),
          c.getIteration(), upload.size(), upload.parts(), topic, partition, offsets.get(0),
          offsets.get(offsets.size() - 1), m.offset());
      return m;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing checkpoint " + c.getIteration() + " of "
          + c.getModel(), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("checkpoint " + c.getIteration() + " of " + c.getModel()
          + " was not published: " + e.getCause().getMessage(), e.getCause());
    }
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
    return RecordsByOffset.read(consumer, topic, partition, offsets);
  }

  @Override
  public synchronized void close() {
    if (consumer != null) {
      consumer.close();
      consumer = null;
    }
  }
}
