package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.engine.data.DatumBatches;
import crema.engine.data.DatumTransformer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The Kafka Data layer source under the layer's reader: kept records and fetched records give the
 * batches a plain sequential read of the topic gives, pass after pass; records appended join a
 * later pass; a reader resumed at a recorded offset continues exactly where the first stood.
 */
class KafkaDatumCursorTest {
  private static final int BATCH = 8;
  private static final int ITEM = 6;

  private final KafkaClients clients = new KafkaClients(EmbeddedBroker.shared().bootstrapServers(), Map.of());

  private String topic(String name, int records) throws Exception {
    String topic = name + "-" + System.nanoTime();
    try (Admin admin = clients.admin("test")) {
      admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty()))).all().get();
    }
    produce(topic, 0, records);
    return topic;
  }

  private void produce(String topic, int from, int to) throws Exception {
    try (KafkaProducer<String, byte[]> p = clients.producer("test")) {
      for (int i = from; i < to; i++) {
        Datum.Builder d = Datum.newBuilder().setChannels(1).setHeight(2).setWidth(3).setLabel(i);
        for (int k = 0; k < ITEM; k++) {
          d.addFloatData(i * 10 + k);
        }
        p.send(new ProducerRecord<>(topic, Integer.toString(i), d.build().toByteArray())).get();
      }
    }
  }

  private KafkaDatumCursor cursor(String topic) {
    return new KafkaDatumCursor(clients, topic, 10_000, new SimpleMeterRegistry());
  }

  private static DatumTransformer transformer() {
    return new DatumTransformer(TransformationParameter.newBuilder().setScale(0.5f).build(), Phase.TRAIN);
  }

  /** Labels and data of the next batch; the position after it goes to {@code positions}. */
  private static float[] take(DatumBatches batches, List<Long> positions) {
    float[] out = new float[BATCH * ITEM + BATCH];
    float[] label = new float[BATCH];
    batches.next(out, label);
    System.arraycopy(label, 0, out, BATCH * ITEM, BATCH);
    positions.add(batches.position());
    return out;
  }

  @Test
  void keptAndFetchedRecordsGiveTheSequentialBatches() throws Exception {
    String topic = topic("datums", 29);
    int n = 5 * 29 / BATCH + 1;
    List<float[]> expected = new ArrayList<>();
    List<Long> expectedPositions = new ArrayList<>();
    try (KafkaDatumCursor plain = cursor(topic)) {
      DatumTransformer t = transformer();
      for (int b = 0; b < n; b++) {
        float[] out = new float[BATCH * ITEM + BATCH];
        for (int i = 0; i < BATCH; i++) {
          Datum d = plain.next();
          t.check(d, () -> "record");
          t.transform(d, out, i * ITEM);
          out[BATCH * ITEM + i] = d.getLabel();
        }
        expected.add(out);
        expectedPositions.add(plain.position());
      }
    }
    List<Long> positions = new ArrayList<>();
    try (DatumBatches batches = new DatumBatches(cursor(topic), transformer(), BATCH, 3, "data")) {
      for (int b = 0; b < n; b++) {
        assertArrayEquals(expected.get(b), take(batches, positions), "batch " + b);
      }
    }
    assertEquals(expectedPositions, positions, "the offsets recorded for resuming");
  }

  @Test
  void recordsAppendedJoinALaterPass() throws Exception {
    String topic = topic("growing", 20);
    try (DatumBatches batches = new DatumBatches(cursor(topic), transformer(), BATCH, 2, "data")) {
      List<Long> positions = new ArrayList<>();
      for (int b = 0; b < 6; b++) {
        take(batches, positions);
      }
      produce(topic, 20, 25);
      // The cursor asks for the log's end at most every BOUNDS_TTL_NS: after that, the first pass
      // the readers start includes the new records, behind the batches already read ahead (a
      // pool of at most 32 here).
      Thread.sleep(KafkaDatumCursor.BOUNDS_TTL_NS / 1_000_000 + 50);
      Set<Integer> labels = new TreeSet<>();
      for (int b = 0; b < 32 + 2 * 25 / BATCH + 2; b++) {
        float[] out = take(batches, positions);
        for (int i = 0; i < BATCH; i++) {
          labels.add((int) out[BATCH * ITEM + i]);
        }
      }
      assertTrue(labels.containsAll(Set.of(20, 21, 22, 23, 24)), "labels seen: " + labels);
    }
  }

  @Test
  void aReaderResumedAtARecordedOffsetContinuesWhereTheFirstStood() throws Exception {
    String topic = topic("resume", 23);
    List<Long> positions = new ArrayList<>();
    List<float[]> after = new ArrayList<>();
    long recorded;
    try (DatumBatches first = new DatumBatches(cursor(topic), transformer(), BATCH, 3, "data")) {
      for (int b = 0; b < 7; b++) {
        take(first, positions);
      }
      recorded = first.position();
      for (int b = 0; b < 6; b++) {
        after.add(take(first, positions));
      }
    }
    try (DatumBatches resumed = new DatumBatches(cursor(topic), transformer(), BATCH, 3, "data")) {
      resumed.seek(recorded);
      for (int b = 0; b < 6; b++) {
        assertArrayEquals(after.get(b), take(resumed, new ArrayList<>()), "batch " + b + " after resuming");
      }
    }
  }
}
