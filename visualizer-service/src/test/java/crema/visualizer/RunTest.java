package crema.visualizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.proto.Checkpoint;
import crema.proto.Job;
import crema.proto.TrainEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RunTest {
  static final Job JOB = Job.newBuilder().setId("r1").setModel("otto").setSolverPrototxt("base_lr: 0.01")
      .setNetPrototxt("name: 'n'").addLabelNames("a").setSubmittedMs(1000).build();
  static final Checkpoint CP = Checkpoint.newBuilder().setRun("r1").setModel("otto").setIteration(100)
      .setDeployPrototxt("name: 'deploy'").setSolverPrototxt("base_lr: 0.01").setNetPrototxt("name: 'n'")
      .addLabelNames("a").setSha256("ab").setCreatedMs(3000).build();

  static TrainEvent train(int iter, double loss, long t) {
    return TrainEvent.newBuilder().setRun("r1").setModel("otto").setIteration(iter).setLoss(loss).setLearningRate(0.01)
        .setTimeMs(t).setState("RUNNING").putUpdateRatios("ip1/0", 1e-3).build();
  }

  /** Topics are read in no fixed order relative to each other: any order gives the same run. */
  @Test
  void theRunIsTheSameWhateverOrderTheTopicsAreReadIn() {
    List<Consumer<Run>> jobAndCheckpoint = List.of(r -> r.onJob(JOB, 5000), r -> r.onCheckpoint(CP, 0, 7, 123));
    List<TrainEvent> events = List.of(train(0, 2.0, 1500), train(50, 1.0, 2000),
        TrainEvent.newBuilder().setRun("r1").setModel("otto").setIteration(100).setPhase(TrainEvent.Phase.TEST)
            .putOutputs("accuracy", 0.5).setTimeMs(2500).setState("RUNNING").build());
    String first = null;
    Random random = new Random(0);
    for (int trial = 0; trial < 20; trial++) {
      List<Consumer<Run>> steps = new ArrayList<>(jobAndCheckpoint);
      Collections.shuffle(steps, random);
      Run r = new Run("r1", 100);
      // Events keep their own order (one partition); the other topics interleave anywhere.
      int at = random.nextInt(events.size() + 1);
      for (int i = 0; i < events.size(); i++) {
        if (i == at) {
          steps.forEach(s -> s.accept(r));
        }
        r.onEvent(events.get(i));
      }
      if (at == events.size()) {
        steps.forEach(s -> s.accept(r));
      }
      String detail = describe(r.detail());
      if (first == null) {
        first = detail;
      }
      assertEquals(first, detail, "trial " + trial);
      assertEquals("name: 'deploy'", r.detail().deploy());
      assertEquals(1000, r.summary().startedMs(), "the job's submission time, the earliest");
    }
  }

  static String describe(Run.Detail d) {
    StringBuilder sb = new StringBuilder(d.summary() + " " + d.solver() + d.net() + d.deploy() + d.labels() + d.checkpoints());
    d.curves().forEach((k, v) -> sb.append(k).append(java.util.Arrays.toString(v.iterations()))
        .append(java.util.Arrays.toString(v.times())).append(java.util.Arrays.toString(v.values())));
    return sb.toString();
  }

  @Test
  void curvesFromEvents() {
    Run r = new Run("r1", 100);
    r.onEvent(train(0, 2.0, 1500));
    r.onEvent(train(50, 1.0, 2000));
    var d = r.detail();
    assertEquals(List.of("train/loss", "train/loss (smoothed)", "train/lr", "ratio/ip1/0"), List.copyOf(d.curves().keySet()));
    double[] smoothed = d.curves().get("train/loss (smoothed)").values();
    assertEquals(2.0, smoothed[0], 1e-12);
    assertEquals((0.9 * 2.0 + 1.0) / (0.9 + 1), smoothed[1], 1e-12, "the mean of the losses so far, weighted 0.9^age");
    r.onEvent(train(60, Double.NaN, 2100).toBuilder().setState("FAILED").setMessage("diverged").build());
    assertEquals(2, r.detail().curves().get("train/loss").values().length, "no NaN point");
    assertEquals("FAILED", r.summary().state());
    Run empty = new Run("r2", 100);
    assertNull(empty.summary().loss(), "no loss yet is no loss, not NaN (JSON has none)");
  }

  @Test
  void theSmoothedLossFollowsADropWithoutTheFirstLossHoldingItUp() {
    Run r = new Run("r1", 100);
    r.onEvent(train(0, 10.0, 1000));
    for (int i = 1; i <= 20; i++) {
      r.onEvent(train(i * 100, 1.0, 1000 + i));
    }
    double[] smoothed = r.detail().curves().get("train/loss (smoothed)").values();
    // Weighted mean: the first loss weighs 0.9^20 against the others' sum of 0.9^0..0.9^19.
    double w = Math.pow(0.9, 20);
    double expected = (10.0 * w + (1 - w) / (1 - 0.9)) / ((1 - Math.pow(0.9, 21)) / (1 - 0.9));
    assertEquals(expected, smoothed[20], 1e-9);
    assertTrue(smoothed[20] < 1.15, "after 20 displays at 1.0 the curve is near 1.0, not " + smoothed[20]
        + " (an average started at the first loss would be " + (1 + 9 * w) + ")");
  }
}
