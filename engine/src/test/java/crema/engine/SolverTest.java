package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.io.Prototxt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SolverTest {
  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void fixture() {
    root = OttoFixture.copyTo(tmp);
  }

  private static SolverParameter otto(String extra) {
    SolverParameter base = OttoFixture.solver(root, "exact/sgd_solver.prototxt", tmp.resolve("s").toString());
    SolverParameter.Builder b = base.toBuilder();
    Prototxt.parse(extra, "extra", b);
    return b.build();
  }

  private static Solver solver(String extra) {
    Solver s = Solver.create(otto(extra));
    s.copyWeightsFrom(List.of(root.resolve("exact/init.caffemodel")));
    return s;
  }

  @Test
  void everyLearningRatePolicy() {
    try (Solver s = solver("lr_policy: 'fixed' base_lr: 0.5 max_iter: 100")) {
      assertEquals(0.5f, s.learningRateAt(37));
    }
    try (Solver s = solver("lr_policy: 'step' base_lr: 0.5 gamma: 0.1 stepsize: 10")) {
      assertEquals(0.5 * 0.001, s.learningRateAt(37), 1e-9);
    }
    try (Solver s = solver("lr_policy: 'exp' base_lr: 0.5 gamma: 0.99")) {
      assertEquals(0.5 * Math.pow(0.99f, 37), s.learningRateAt(37), 1e-7);
    }
    try (Solver s = solver("lr_policy: 'inv' base_lr: 0.01 gamma: 0.0001 power: 0.75")) {
      assertEquals(0.01 * Math.pow(2, -0.75), s.learningRateAt(10000), 1e-9);
    }
    try (Solver s = solver("lr_policy: 'poly' base_lr: 0.5 power: 2 max_iter: 100")) {
      assertEquals(0.5 * Math.pow(1 - 0.37, 2), s.learningRateAt(37), 1e-7);
    }
    try (Solver s = solver("lr_policy: 'sigmoid' base_lr: 0.5 gamma: 0.1 stepsize: 30")) {
      assertEquals(0.5 / (1 + Math.exp(-0.1f * 7)), s.learningRateAt(37), 1e-7);
    }
    try (Solver s = solver("lr_policy: 'multistep' base_lr: 1 gamma: 0.5 stepvalue: 10 stepvalue: 20")) {
      float[] expected = {1, 1, 0.5f, 0.25f, 0.25f};
      int[] at = {0, 9, 10, 20, 30};
      for (int i = 0; i < at.length; i++) {
        assertEquals(expected[i], s.learningRateAt(at[i]), 1e-9, "at " + at[i]);
      }
    }
    var e = assertThrows(IllegalArgumentException.class, () -> {
      try (Solver s = solver("lr_policy: 'cosine'")) {
        s.learningRate();
      }
    });
    assertTrue(e.getMessage().contains("Unknown learning rate policy: cosine"));
  }

  private static float[] weights(Solver s) {
    Blob w = s.net().learnableParams().get(0);
    return java.util.Arrays.copyOf(w.data(), w.count());
  }

  @Test
  void iterSizeAccumulatesLikeALargerBatch() {
    String common = " momentum: 0 weight_decay: 0.0005 max_iter: 1 snapshot: 0 snapshot_after_train: false display: 0";
    float[] accumulated;
    try (Solver s = solver("iter_size: 2" + common)) {
      s.step(1);
      accumulated = weights(s);
    }
    SolverParameter p = otto(common);
    NetParameter.Builder net = p.getNetParam().toBuilder();
    net.setLayer(0, net.getLayer(0).toBuilder().setDataParam(net.getLayer(0).getDataParam().toBuilder().setBatchSize(128)));
    try (Solver s = Solver.create(p.toBuilder().setNetParam(net).build())) {
      s.copyWeightsFrom(List.of(root.resolve("exact/init.caffemodel")));
      s.step(1);
      float[] big = weights(s);
      for (int i = 0; i < big.length; i++) {
        assertEquals(big[i], accumulated[i], 1e-6, "weight " + i);
      }
    }
  }

  @Test
  void clipGradientsBoundsTheStep() {
    float[] before;
    float[] after;
    try (Solver s = solver("clip_gradients: 0.001 momentum: 0 weight_decay: 0 base_lr: 0.01 lr_policy: 'fixed'"
        + " snapshot: 0 snapshot_after_train: false display: 0")) {
      before = s.net().learnableParams().stream().map(b -> java.util.Arrays.copyOf(b.data(), b.count()))
          .reduce(new float[0], SolverTest::concat);
      s.step(1);
      after = s.net().learnableParams().stream().map(b -> java.util.Arrays.copyOf(b.data(), b.count()))
          .reduce(new float[0], SolverTest::concat);
    }
    double norm = 0;
    for (int i = 0; i < before.length; i++) {
      norm += Math.pow(after[i] - before[i], 2);
    }
    assertEquals(0.01 * 0.001, Math.sqrt(norm), 1e-8, "‖ΔW‖ = lr · clip");
  }

  /** onUpdate sees the step just applied in the diffs: W_before − W_after, momentum and decay included. */
  @Test
  void updateListenerSeesTheAppliedStep() {
    try (Solver s = solver("momentum: 0.9 weight_decay: 0.01 base_lr: 0.05 lr_policy: 'fixed'"
        + " snapshot: 0 snapshot_after_train: false display: 0")) {
      s.step(2);
      float[] before = s.net().learnableParams().stream().map(b -> java.util.Arrays.copyOf(b.data(), b.count()))
          .reduce(new float[0], SolverTest::concat);
      float[][] seen = new float[1][];
      int[] seenIter = {-1};
      s.addListener(new Solver.Listener() {
        @Override
        public void onUpdate(int iter, Net net) {
          seenIter[0] = iter;
          seen[0] = net.learnableParams().stream().map(b -> java.util.Arrays.copyOf(b.diff(), b.count()))
              .reduce(new float[0], SolverTest::concat);
        }
      });
      s.step(1);
      float[] after = s.net().learnableParams().stream().map(b -> java.util.Arrays.copyOf(b.data(), b.count()))
          .reduce(new float[0], SolverTest::concat);
      assertEquals(2, seenIter[0], "the iteration whose update was applied");
      for (int i = 0; i < before.length; i++) {
        assertEquals(before[i] - after[i], seen[0][i], 1e-6 + 1e-5 * Math.abs(before[i]), "parameter value " + i);
      }
    }
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void l1DecayAddsTheSignOfTheWeight() {
    float[] start;
    float[] l1;
    float[] none;
    String common = " momentum: 0 base_lr: 0.01 lr_policy: 'fixed' snapshot: 0 snapshot_after_train: false display: 0";
    try (Solver s = solver("weight_decay: 0" + common)) {
      start = weights(s);
      s.step(1);
      none = weights(s);
    }
    try (Solver s = solver("weight_decay: 0.5 regularization_type: 'L1'" + common)) {
      s.step(1);
      l1 = weights(s);
    }
    for (int i = 0; i < start.length; i++) {
      assertEquals(none[i] - 0.01 * 0.5 * Math.signum(start[i]), l1[i], 1e-6);
    }
  }

  @Test
  void divergenceStopsNamingTheIterationAndKeepsTheLastGoodSnapshot() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("diverge"));
    SolverParameter p = otto("base_lr: 100 lr_policy: 'fixed' max_iter: 500 snapshot: 1 display: 0").toBuilder()
        .setSnapshotPrefix(dir.resolve("d").toString()).build();
    try (Solver s = Solver.create(p)) {
      s.copyWeightsFrom(List.of(root.resolve("exact/init.caffemodel")));
      var e = assertThrows(TrainingDivergedException.class, () -> s.solve(null));
      assertTrue(e.getMessage().contains("iteration " + e.iteration()), e.getMessage());
      assertTrue(e.getMessage().contains("d_iter_" + e.iteration() + ".solverstate"), e.getMessage());
      assertFalse(Files.exists(dir.resolve("d_iter_" + (e.iteration() + 1) + ".caffemodel")),
          "the diverged weights are not snapshotted");
    }
  }

  @Test
  void adaGradRefusesMomentum() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> Solver.create(otto("type: 'AdaGrad' momentum: 0.9")));
    assertTrue(e.getMessage().contains("Momentum cannot be used with AdaGrad"));
  }

  @Test
  void restoringAStateOfAnotherSolverTypeIsRefused() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("restore"));
    SolverParameter p = otto("max_iter: 1").toBuilder().setSnapshotPrefix(dir.resolve("r").toString()).build();
    Path state;
    try (Solver s = Solver.create(p)) {
      s.solve(null);
      state = dir.resolve("r_iter_1.solverstate");
    }
    try (Solver adam = Solver.create(p.toBuilder().setType("Adam").build())) {
      var e = assertThrows(IllegalArgumentException.class, () -> adam.restore(state));
      assertTrue(e.getMessage().contains("Incorrect length of history blobs"), e.getMessage());
    }
  }
}
