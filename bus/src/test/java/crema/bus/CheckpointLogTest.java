package crema.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import crema.proto.Checkpoint;
import crema.proto.CheckpointAssembler;
import crema.proto.CheckpointParts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint larger than Kafka's default record limit through a real broker left at its
 * defaults: published in parts by {@link CheckpointLog#publish}, followed and reassembled, read
 * back from its manifest's offset alone, and refused when the manifest names a record that is not
 * its part.
 */
class CheckpointLogTest {
  static EmbeddedBroker broker;
  static KafkaClients clients;
  static final String TOPIC = "t1.checkpoints";
  static final String TOPIC2 = "t2.checkpoints";

  @BeforeAll
  static void start() {
    broker = EmbeddedBroker.start();
    clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    new TopicSetup(clients, new TopicsConfig()).ensure(TopicKind.CHECKPOINTS.named(TOPIC),
        TopicKind.CHECKPOINTS.named(TOPIC2));
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  static Checkpoint checkpoint(int iteration, int bytes) {
    byte[] model = new byte[bytes];
    byte[] state = new byte[bytes];
    new Random(iteration).nextBytes(model);
    new Random(-iteration).nextBytes(state);
    ByteString m = ByteString.copyFrom(model);
    ByteString s = ByteString.copyFrom(state);
    return Checkpoint.newBuilder().setModel("big").setRun("r").setIteration(iteration).setCaffemodel(m)
        .setSolverstate(s).setSha256(CheckpointParts.sha256(m, s)).setDeployPrototxt("name: \"d\"").build();
  }

  static List<ConsumerRecord<String, byte[]>> all(String topic) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    TopicLog.readToEnd(clients, "test", topic, Duration.ofSeconds(30), out::add);
    return out;
  }

  @Test
  void aCheckpointOverTheRecordLimitTravelsInPartsAndReadsBackWhole() throws Exception {
    Checkpoint c = checkpoint(1, 3 << 20); // 6 MiB: six times Kafka's default record limit
    RecordMetadata at;
    try (KafkaProducer<String, byte[]> p = clients.producer("test")) {
      at = CheckpointLog.publish(p, TOPIC, c, CheckpointParts.DEFAULT_PART_BYTES);
    }
    List<ConsumerRecord<String, byte[]>> records = all(TOPIC);
    int parts = (int) ((c.getSerializedSize() + CheckpointParts.DEFAULT_PART_BYTES - 1)
        / CheckpointParts.DEFAULT_PART_BYTES);
    assertEquals(parts + 1, records.size());
    assertEquals(at.offset(), records.get(records.size() - 1).offset(), "the manifest comes last");
    for (ConsumerRecord<String, byte[]> r : records) {
      assertEquals("big", r.key(), "every record under the model's key");
      assertTrue(r.serializedValueSize() < 1_048_576, "within Kafka's default limit: " + r.serializedValueSize());
    }

    // A follower reassembles it from what it read.
    CheckpointAssembler a = new CheckpointAssembler();
    Checkpoint followed = null;
    try (CheckpointLog log = new CheckpointLog(clients, "test-parts", TOPIC)) {
      for (ConsumerRecord<String, byte[]> r : records) {
        Checkpoint got = a.offer(r.partition(), r.offset(), r.value());
        if (got != null) {
          followed = a.complete(got, (partition, offsets) -> {
            throw new AssertionError("a follower needs nothing back: " + offsets);
          });
        }
      }
      assertArrayEquals(c.toByteArray(), followed.toByteArray());
      // A reader holding only the manifest's offset reads the parts back by theirs.
      assertArrayEquals(c.toByteArray(), log.checkpointAt(at.partition(), at.offset()).toByteArray());
      // A part is not a checkpoint.
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.checkpointAt(0, 0));
      assertTrue(e.getMessage().contains("a checkpoint part record is not a whole checkpoint"), e.getMessage());
    }
  }

  @Test
  void aReaderStartingInTheMiddleOfThePartsReadsTheOthersBack() throws Exception {
    Checkpoint c = checkpoint(2, 2 << 20);
    long start = all(TOPIC2).size();
    try (KafkaProducer<String, byte[]> p = clients.producer("test")) {
      CheckpointLog.publish(p, TOPIC2, c, CheckpointParts.DEFAULT_PART_BYTES);
    }
    CheckpointAssembler a = new CheckpointAssembler();
    List<Long> readBack = new ArrayList<>();
    Checkpoint got = null;
    TopicPartition tp = new TopicPartition(TOPIC2, 0);
    try (KafkaConsumer<String, byte[]> consumer = clients.consumer("test-mid");
        CheckpointLog log = new CheckpointLog(clients, "test-parts", TOPIC2)) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, start + 3);
      long deadline = System.currentTimeMillis() + 30_000;
      while (got == null && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          Checkpoint record = a.offer(r.partition(), r.offset(), r.value());
          if (record != null) {
            got = a.complete(record, (partition, offsets) -> {
              readBack.addAll(offsets);
              return log.read(partition, offsets);
            });
          }
        }
      }
    }
    assertArrayEquals(c.toByteArray(), got.toByteArray());
    assertEquals(List.of(start, start + 1, start + 2), readBack, "only the three parts it started after");
  }
}
