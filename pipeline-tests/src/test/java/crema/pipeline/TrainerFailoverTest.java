package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.Topics;
import crema.proto.Checkpoint;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainer replicas: 3 trainer processes share crema.jobs (12 partitions) in one consumer group;
 * 6 jobs are posted across them and the replica running some is SIGKILLed mid-run. The group moves
 * its partitions to the survivors, which resume its jobs from their newest checkpoints: every job
 * finishes exactly once (one FINISHED record, one final checkpoint, no iteration published twice),
 * each with the caffemodel and solverstate bytes of the same job run alone, on a trainer running
 * one job at a time, before.
 */
class TrainerFailoverTest {
  static final String TOPIC = "crema.datums.fo.train";
  static final int JOBS = 6;
  static final int MAX_ITER = 12000;
  static final int SNAPSHOT = 500;

  @TempDir
  static Path tmp;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static final List<ServiceProcess> trainers = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    Map<String, Object> r = PipelineSupport.post(ingest.url(), "/v1/datasets/fo/rows?label=digit&split=train",
        PipelineSupport.digitsCsv(), MediaType.of("text/csv"));
    assertEquals(1797, ((Number) r.get("accepted")).intValue());
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServiceProcess t : trainers) {
      t.close();
    }
    ingest.close();
    broker.close();
  }

  /** A trainer of its own log folder ({@code name}), in the trainer group; not started. */
  static ServiceProcess trainer(String name, String... args) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    ServiceProcess t = new ServiceProcess("trainer", broker.bootstrapServers(), dir, args);
    trainers.add(t);
    return t;
  }

  /** Job {@code i}: the small digits net, its own seed. */
  static String submit(ServiceProcess trainer, int i) {
    String solver = PipelineSupport.smallSolver(MAX_ITER, SNAPSHOT).replace("random_seed: 5", "random_seed: " + i);
    return (String) PipelineSupport.post(trainer.url(), "/v1/jobs", Map.of("model", "fo-" + i, "solver", solver,
        "net", PipelineSupport.smallDigitsNet(TOPIC)), MediaType.APPLICATION_JSON_TYPE).get("id");
  }

  /** Every checkpoint on the topic by run, in publish order. */
  static Map<String, List<Checkpoint>> checkpoints() throws Exception {
    Map<String, List<Checkpoint>> out = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.CHECKPOINTS)) {
      Checkpoint c = Checkpoint.parseFrom(r.value());
      out.computeIfAbsent(c.getRun(), k -> new ArrayList<>()).add(c);
    }
    return out;
  }

  static Checkpoint last(Map<String, List<Checkpoint>> all, String run) {
    List<Checkpoint> cs = all.getOrDefault(run, List.of());
    return cs.isEmpty() ? null : cs.get(cs.size() - 1);
  }

  /** Waits until every run has published its final checkpoint. */
  static Map<String, List<Checkpoint>> awaitFinal(List<String> runs) throws Exception {
    long deadline = System.currentTimeMillis() + 240_000;
    Map<String, List<Checkpoint>> all = Map.of();
    while (System.currentTimeMillis() < deadline) {
      all = checkpoints();
      Map<String, List<Checkpoint>> now = all;
      if (runs.stream().allMatch(r -> now.getOrDefault(r, List.of()).stream()
          .anyMatch(c -> c.getIteration() == MAX_ITER))) {
        return all;
      }
      Thread.sleep(250);
    }
    StringBuilder logs = new StringBuilder();
    for (ServiceProcess t : trainers) {
      logs.append(t.log()).append("\n----\n");
    }
    throw new AssertionError("not every run finished: " + all.keySet() + "\n" + logs);
  }

  @Test
  @SuppressWarnings("rawtypes")
  void aTrainerKilledMidRunHandsItsJobsToTheOthersAndEachFinishesOnceAsAlone() throws Exception {
    // Each job alone: one trainer, one job at a time.
    ServiceProcess alone = trainer("alone", "-crema.trainer.max-concurrent-jobs=1").start();
    Map<Integer, String> aloneRuns = new LinkedHashMap<>();
    for (int i = 1; i <= JOBS; i++) {
      aloneRuns.put(i, submit(alone, i));
    }
    Map<String, List<Checkpoint>> reference = awaitFinal(new ArrayList<>(aloneRuns.values()));
    alone.close();

    // Three replicas in the group; each has its share of the 12 partitions before jobs come.
    // (A replica unheard for 6 s, the broker's least session timeout, loses its jobs.)
    List<ServiceProcess> replicas = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      replicas.add(trainer("replica-" + k, "-crema.trainer.session-timeout-ms=6000"));
    }
    List<java.util.concurrent.CompletableFuture<ServiceProcess>> starting = replicas.stream()
        .map(t -> java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return t.start();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        })).toList();
    starting.forEach(java.util.concurrent.CompletableFuture::join);
    long deadline = System.currentTimeMillis() + 60_000;
    while (!replicas.stream().allMatch(t -> {
      try {
        return t.log().contains("this trainer runs the jobs of");
      } catch (java.io.IOException e) {
        return false;
      }
    })) {
      assertTrue(System.currentTimeMillis() < deadline, "every replica was given partitions");
      Thread.sleep(200);
    }
    Map<Integer, String> runs = new LinkedHashMap<>();
    for (int i = 1; i <= JOBS; i++) {
      runs.put(i, submit(replicas.get(i % 3), i));
    }

    // The victim: a replica that has published a checkpoint of a job that is not finished.
    ServiceProcess victim = null;
    List<String> victimRuns = new ArrayList<>();
    deadline = System.currentTimeMillis() + 120_000;
    while (victim == null) {
      assertTrue(System.currentTimeMillis() < deadline, "no replica published a checkpoint");
      Map<String, List<Checkpoint>> now = checkpoints();
      for (ServiceProcess t : replicas) {
        String log = t.log();
        for (int i = 1; i <= JOBS; i++) {
          Checkpoint c = last(now, runs.get(i));
          if (log.contains("fo-" + i + ": published checkpoint") && c != null && c.getIteration() < MAX_ITER / 2) {
            victimRuns.add(runs.get(i));
          }
        }
        if (!victimRuns.isEmpty()) {
          victim = t;
          break;
        }
      }
      Thread.sleep(100);
    }
    victim.kill();
    System.out.println("killed a replica running " + victimRuns + " at " + victimRuns.stream()
        .map(r -> { try { return last(checkpoints(), r).getIteration(); } catch (Exception e) { return -1; } }).toList());
    List<ServiceProcess> survivors = new ArrayList<>(replicas);
    survivors.remove(victim);

    Map<String, List<Checkpoint>> all = awaitFinal(new ArrayList<>(runs.values()));
    Thread.sleep(1000);
    all = checkpoints();
    for (int i = 1; i <= JOBS; i++) {
      String run = runs.get(i);
      List<Integer> iterations = all.get(run).stream().map(Checkpoint::getIteration).toList();
      assertEquals(1, iterations.stream().filter(it -> it == MAX_ITER).count(), run + ": one final checkpoint " + iterations);
      assertEquals(iterations.stream().distinct().sorted().toList(), iterations,
          run + " published an iteration twice: " + iterations);
      Checkpoint done = all.get(run).stream().filter(c -> c.getIteration() == MAX_ITER).findFirst().orElseThrow();
      Checkpoint ref = last(reference, aloneRuns.get(i));
      assertEquals(MAX_ITER, ref.getIteration());
      assertArrayEquals(ref.getCaffemodel().toByteArray(), done.getCaffemodel().toByteArray(), "fo-" + i + " caffemodel");
      assertArrayEquals(ref.getSolverstate().toByteArray(), done.getSolverstate().toByteArray(),
          "fo-" + i + " solverstate");
    }
    // The victim's jobs went on elsewhere, from their newest checkpoints.
    String survivorLogs = survivors.get(0).log() + survivors.get(1).log();
    for (String run : victimRuns) {
      assertTrue(survivorLogs.contains("of run " + run), run + " resumed by a survivor\n" + survivorLogs);
    }
    // Exactly one FINISHED record per job on crema.jobs.
    Map<String, Integer> finished = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.JOBS)) {
      crema.proto.Job j = crema.proto.Job.parseFrom(r.value());
      if (j.getState().equals("FINISHED")) {
        finished.merge(j.getId(), 1, Integer::sum);
      }
    }
    for (String run : runs.values()) {
      assertEquals(1, finished.getOrDefault(run, 0), run + " FINISHED records");
    }
    // Any replica lists every job, wherever it ran.
    for (ServiceProcess t : survivors) {
      deadline = System.currentTimeMillis() + 30_000;
      while (true) {
        List<Map> listed = PipelineSupport.http().toBlocking().retrieve(HttpRequest.GET(t.url() + "/v1/jobs"),
            Argument.listOf(Map.class));
        long done = listed.stream()
            .filter(m -> runs.containsValue(m.get("id")) && "FINISHED".equals(m.get("state"))).count();
        if (done == JOBS) {
          break;
        }
        assertTrue(System.currentTimeMillis() < deadline, t.url() + " lists " + listed);
        Thread.sleep(200);
      }
    }
  }
}
