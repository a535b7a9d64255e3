package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.proto.Checkpoint;
import crema.proto.PartitionOffset;
import io.micronaut.http.MediaType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exact resume on a partitioned dataset: the digits ingested into a Datum topic of 4 partitions,
 * a trainer (its own process) SIGKILLed at a random iteration and restarted ends with the
 * caffemodel and solverstate bytes, and the per-partition offsets, of an uninterrupted run.
 */
class PartitionedResumeTest {
  static final String TOPIC = "crema.datums.p4.train";
  static final int MAX_ITER = 160000;
  static final int SNAPSHOT = 5000;

  @TempDir
  static Path tmp;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp, "-crema.topics.datums-partitions=4").start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    Map<String, Object> r = PipelineSupport.post(ingest.url(), "/v1/datasets/p4/rows?label=digit&split=train",
        PipelineSupport.digitsCsv(), MediaType.of("text/csv"));
    assertEquals(1797, ((Number) r.get("accepted")).intValue());
  }

  @AfterAll
  static void stop() throws Exception {
    trainer.close();
    ingest.close();
    broker.close();
  }

  /** A job of the small digits net; both runs have the same model name, so their solver states name the same file. */
  static String submit() {
    return (String) PipelineSupport.post(trainer.url(), "/v1/jobs", Map.of("model", "p4",
        "solver", PipelineSupport.smallSolver(MAX_ITER, SNAPSHOT), "net", PipelineSupport.smallDigitsNet(TOPIC)),
        MediaType.APPLICATION_JSON_TYPE).get("id");
  }

  static Optional<Checkpoint> newest(String run) throws Exception {
    Checkpoint best = null;
    for (var r : PipelineSupport.readAll(broker, Topics.CHECKPOINTS)) {
      Checkpoint c = Checkpoint.parseFrom(r.value());
      if (c.getRun().equals(run) && (best == null || c.getIteration() >= best.getIteration())) {
        best = c;
      }
    }
    return Optional.ofNullable(best);
  }

  static Checkpoint waitFor(String run, int iteration) throws Exception {
    long deadline = System.currentTimeMillis() + 300_000;
    while (System.currentTimeMillis() < deadline) {
      Optional<Checkpoint> c = newest(run);
      if (c.isPresent() && c.get().getIteration() >= iteration) {
        return c.get();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(run + " never reached iteration " + iteration + "\n" + trainer.log());
  }

  @Test
  void aTrainerKilledAtARandomIterationOnFourPartitionsEndsByteIdentical() throws Exception {
    // The rows are spread over 4 partitions by key, every one holding some.
    KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    long[] ends = new long[4];
    try (KafkaConsumer<String, byte[]> c = clients.consumer("test")) {
      List<TopicPartition> tps = IntStream.range(0, 4).mapToObj(q -> new TopicPartition(TOPIC, q)).toList();
      assertEquals(4, c.partitionsFor(TOPIC).size());
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      for (int q = 0; q < 4; q++) {
        ends[q] = end.get(tps.get(q));
      }
      assertEquals(1797L, ends[0] + ends[1] + ends[2] + ends[3]);
      assertTrue(java.util.Arrays.stream(ends).allMatch(e -> e > 300), "rows spread by key: " + end);
    }

    Checkpoint uninterrupted = waitFor(submit(), MAX_ITER);

    // Killed at a random iteration in the first half: after a random checkpoint, a random moment later.
    Random random = new Random();
    String run = submit();
    waitFor(run, SNAPSHOT * (1 + random.nextInt(MAX_ITER / SNAPSHOT / 2)));
    Thread.sleep(random.nextInt(300));
    trainer.kill();
    int before = newest(run).get().getIteration();
    assertTrue(before < MAX_ITER, "killed before the end (at checkpoint " + before + ")");
    trainer.start();
    Checkpoint resumed = waitFor(run, MAX_ITER);
    System.out.println("killed after checkpoint " + before + ", resumed to " + resumed.getIteration());
    assertTrue(trainer.log().contains("resuming from checkpoint at iteration " + before + " of run " + run),
        trainer.log());
    assertArrayEquals(uninterrupted.getCaffemodel().toByteArray(), resumed.getCaffemodel().toByteArray(),
        "caffemodel after a SIGKILL after iteration " + before);
    assertArrayEquals(uninterrupted.getSolverstate().toByteArray(), resumed.getSolverstate().toByteArray(),
        "solverstate (history and read position) after a SIGKILL after iteration " + before);
    // One offset per partition, the same as the uninterrupted run's, and as counted here: 16 × 160000
    // rows read through passes of the 1797 rows in grid order (offset, then partition).
    List<PartitionOffset> offsets = resumed.getOffsetsList();
    assertEquals(uninterrupted.getOffsetsList(), offsets);
    long inPass = 16L * MAX_ITER % 1797;
    long[] next = new long[4];
    for (long o = 0, read = 0; read < inPass; o++) {
      for (int q = 0; q < 4 && read < inPass; q++) {
        if (o < ends[q]) {
          read++;
          // Past (o, q): partitions up to q next give o + 1, the later ones o.
          for (int p = 0; p < 4; p++) {
            next[p] = p <= q ? o + 1 : o;
          }
        }
      }
    }
    for (int q = 0; q < 4; q++) {
      assertEquals(TOPIC, offsets.get(q).getTopic());
      assertEquals(q, offsets.get(q).getPartition());
      assertEquals(next[q], offsets.get(q).getOffset(), "partition " + q + " of " + offsets);
    }
  }
}
