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
 * later pass; a reader resumed at a recorded offset continues exactly where the first stood. On
 * several partitions: the records come in grid-point order (offset, then partition), the same on
 * every pass and for every reader, and a reader resumed at a recorded position continues exactly.
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

  /** A topic of {@code counts.length} partitions, partition q holding {@code counts[q]} records. */
  private String partitioned(String name, int... counts) throws Exception {
    String topic = name + "-" + System.nanoTime();
    try (Admin admin = clients.admin("test")) {
      admin.createTopics(List.of(new NewTopic(topic, Optional.of(counts.length), Optional.empty()))).all().get();
    }
    for (int q = 0; q < counts.length; q++) {
      appendTo(topic, q, 0, counts[q]);
    }
    return topic;
  }

  /** Records labelled 1000 × (partition + 1) + their offset into partition {@code q}: offsets from..to-1. */
  private void appendTo(String topic, int q, int from, int to) throws Exception {
    try (KafkaProducer<String, byte[]> p = clients.producer("test")) {
      for (int i = from; i < to; i++) {
        int label = 1000 * (q + 1) + i;
        Datum.Builder d = Datum.newBuilder().setChannels(1).setHeight(2).setWidth(3).setLabel(label);
        for (int k = 0; k < ITEM; k++) {
          d.addFloatData(label + k);
        }
        p.send(new ProducerRecord<>(topic, q, "r" + label, d.build().toByteArray())).get();
      }
    }
  }

  /** The labels of one pass in grid-point order, worked out by hand from the counts. */
  private static List<Integer> gridOrder(int... counts) {
    List<Integer> out = new ArrayList<>();
    int longest = java.util.Arrays.stream(counts).max().orElse(0);
    for (int o = 0; o < longest; o++) {
      for (int q = 0; q < counts.length; q++) {
        if (o < counts[q]) {
          out.add(1000 * (q + 1) + o);
        }
      }
    }
    return out;
  }

  @Test
  void gridPointsAndPerPartitionOffsets() {
    // Four partitions: offset 2 of partition 1 is grid point 9; the next record after it is at 10.
    assertEquals(9, KafkaDatumCursor.gridPoint(2, 1, 4));
    assertEquals(List.of(3L, 3L, 2L, 2L), java.util.stream.IntStream.range(0, 4)
        .mapToObj(q -> KafkaDatumCursor.offsetIn(10, q, 4)).toList());
    assertEquals(List.of(0L, 0L, 0L, 0L), java.util.stream.IntStream.range(0, 4)
        .mapToObj(q -> KafkaDatumCursor.offsetIn(0, q, 4)).toList());
    assertEquals(List.of(3L, 3L, 3L, 3L), java.util.stream.IntStream.range(0, 4)
        .mapToObj(q -> KafkaDatumCursor.offsetIn(12, q, 4)).toList());
    // One partition: the position is the offset, as before partitions.
    assertEquals(17, KafkaDatumCursor.offsetIn(17, 0, 1));
    assertEquals(17, KafkaDatumCursor.gridPoint(17, 0, 1));
  }

  @Test
  void fourPartitionsAreReadInGridOrderOnEveryPass() throws Exception {
    int[] counts = {5, 3, 0, 4};
    String topic = partitioned("grid", counts);
    List<Integer> pass = gridOrder(counts);
    assertEquals(List.of(1000, 2000, 4000, 1001, 2001, 4001, 1002, 2002, 4002, 1003, 4003, 1004), pass);
    try (KafkaDatumCursor c = cursor(topic)) {
      assertEquals(4, c.partitions());
      for (int round = 0; round < 3; round++) {
        List<Integer> seen = new ArrayList<>();
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < pass.size(); i++) {
          seen.add(c.next().getLabel());
          positions.add(c.position());
        }
        assertEquals(pass, seen, "pass " + round);
        // After record (offset o, partition q) the position is o × 4 + q + 1.
        assertEquals(List.of(1L, 2L, 4L, 5L, 6L, 8L, 9L, 10L, 12L, 13L, 16L, 17L), positions, "pass " + round);
      }
      // Per partition, the offsets a checkpoint records after the first 7 records of a pass (the next
      // each would give): partition 0 has given offsets 0..2, partition 1 and 3 offsets 0..1, and the
      // empty partition 2 is past offset 1 too.
      c.seek(0);
      for (int i = 0; i < 7; i++) {
        c.next();
      }
      long at = c.position();
      assertEquals(9, at);
      assertEquals(List.of(3L, 2L, 2L, 2L), java.util.stream.IntStream.range(0, 4)
          .mapToObj(q -> KafkaDatumCursor.offsetIn(at, q, 4)).toList());
      assertEquals(2002, c.next().getLabel(), "partition 1 resumes at offset 2; partitions 2 and 3 hold none there");
    }
  }

  @Test
  void aReaderResumedOnFourPartitionsContinuesWhereTheFirstStood() throws Exception {
    String topic = partitioned("resume4", 9, 7, 8, 6);
    List<Integer> order = gridOrder(9, 7, 8, 6);
    List<Long> positions = new ArrayList<>();
    List<float[]> after = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    long recorded;
    try (DatumBatches first = new DatumBatches(cursor(topic), transformer(), BATCH, 3, "data")) {
      for (int b = 0; b < 7; b++) {
        float[] out = take(first, positions);
        for (int i = 0; i < BATCH; i++) {
          labels.add((int) out[BATCH * ITEM + i]);
        }
      }
      recorded = first.position();
      for (int b = 0; b < 6; b++) {
        after.add(take(first, positions));
      }
    }
    // Kept records (passes 2 and 3 come from the layer's cache) follow the same order as fetched ones.
    List<Integer> expected = new ArrayList<>();
    while (expected.size() < labels.size()) {
      expected.addAll(order);
    }
    assertEquals(expected.subList(0, labels.size()), labels);
    try (DatumBatches resumed = new DatumBatches(cursor(topic), transformer(), BATCH, 3, "data")) {
      resumed.seek(recorded);
      for (int b = 0; b < 6; b++) {
        assertArrayEquals(after.get(b), take(resumed, new ArrayList<>()), "batch " + b + " after resuming");
      }
    }
  }

  @Test
  void rowsAppendedBehindThePositionJoinTheNextPass() throws Exception {
    String topic = partitioned("behind", 6, 2, 6, 6);
    try (KafkaDatumCursor c = cursor(topic)) {
      List<Integer> first = new ArrayList<>();
      // Past offset 3 of every partition: partition 1 (2 records) is behind the position.
      while (c.position() < KafkaDatumCursor.gridPoint(4, 0, 4)) {
        first.add(c.next().getLabel());
      }
      appendTo(topic, 1, 2, 5);
      Thread.sleep(KafkaDatumCursor.BOUNDS_TTL_NS / 1_000_000 + 50);
      List<Integer> rest = new ArrayList<>();
      int passLength = gridOrder(6, 2, 6, 6).size();
      for (int i = first.size(); i < passLength; i++) {
        rest.add(c.next().getLabel());
      }
      assertEquals(List.of(1004, 3004, 4004, 1005, 3005, 4005), rest,
          "rows appended behind the position are not read in this pass");
      List<Integer> second = new ArrayList<>();
      for (int i = 0; i < gridOrder(6, 5, 6, 6).size(); i++) {
        second.add(c.next().getLabel());
      }
      assertEquals(gridOrder(6, 5, 6, 6), second, "the next pass has every row, in grid order");
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
