package crema.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Solver#testBeforeSnapshot}: a snapshot at a test iteration follows that iteration's test,
 * which is not run again; the tests, their numbers and the training are otherwise unchanged.
 */
class SolverTestBeforeSnapshotTest {
  /** What one run saw: each onTest, each snapshot with the latest tested iteration, the weights. */
  private record Run(List<String> tests, List<int[]> snapshots, byte[] weights) {}

  private static Run run(boolean testBeforeSnapshot, String extra) {
    return run(testBeforeSnapshot, extra, null);
  }

  /** Solves, or (steps given) runs step(n) for each n instead. */
  private static Run run(boolean testBeforeSnapshot, String extra, int[] steps) {
    List<String> tests = new ArrayList<>();
    List<int[]> snapshots = new ArrayList<>();
    int[] latestTest = {-1};
    try (Solver s = SolverRngTest.solver(7, extra)) {
      s.addListener(new Solver.Listener() {
        @Override
        public void onTest(int iter, int testNet, Map<String, Float> scores, double loss) {
          tests.add(iter + " #" + testNet + " " + scores + " loss " + loss);
          latestTest[0] = iter;
        }
      });
      s.setSnapshotHandler(solver -> snapshots.add(new int[] {solver.iter(), latestTest[0]}));
      assertTrue(s.testBeforeSnapshot(testBeforeSnapshot).testBeforeSnapshot() == testBeforeSnapshot);
      if (steps == null) {
        s.solve(null);
      } else {
        for (int n : steps) {
          s.step(n);
        }
      }
      return new Run(tests, snapshots, s.net().toProto(false).toByteArray());
    }
  }

  /**
   * Called step by step: the tests run ahead of the snapshots at 20 and 30 are not run again at the
   * start of the next step (with the option off, the test of 30 runs at the start of the last step).
   */
  @org.junit.jupiter.api.Test
  void stepsAcrossATestedSnapshotTestOnce() {
    int[] steps = {20, 5, 5, 1};
    Run off = run(false, "snapshot: 10", steps);
    Run on = run(true, "snapshot: 10", steps);
    assertEquals(off.tests(), on.tests());
    assertEquals(List.of("0", "10", "20", "30"), on.tests().stream().map(t -> t.split(" ")[0]).toList());
    assertArrayEquals(off.weights(), on.weights());
    assertEquals(List.of(10, 20, 30), on.snapshots().stream().map(a -> a[0]).toList());
    for (int[] snap : on.snapshots()) {
      assertEquals(snap[0], snap[1], "the snapshot at iteration " + snap[0] + " follows its test");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      // In-loop snapshots at and between tests; the one at max_iter is taken after the final test.
      "snapshot: 5 display: 5",
      // An in-loop snapshot at 20, snapshot_after_train's at max_iter (30).
      "snapshot: 20 snapshot_after_train: true display: 10",
      // Snapshots at every test iteration, no test at iteration 0.
      "snapshot: 10 test_initialization: false",
      // max_iter off the test grid: the last snapshot (25) is not at a test iteration.
      "snapshot: 5 max_iter: 25 snapshot_after_train: true"})
  void eachSnapshotAtATestIterationSeesItsOwnTest(String extra) {
    Run off = run(false, extra);
    Run on = run(true, extra);
    assertEquals(off.tests(), on.tests(), "the same tests, with the same numbers, in the same order");
    assertArrayEquals(off.weights(), on.weights(), "the same training");
    assertEquals(off.snapshots().stream().map(a -> a[0]).toList(), on.snapshots().stream().map(a -> a[0]).toList(),
        "the same snapshots");
    assertFalse(on.snapshots().isEmpty());
    boolean anyAtATest = false;
    for (int[] snap : on.snapshots()) {
      if (snap[0] % 10 == 0) {
        anyAtATest = true;
        assertEquals(snap[0], snap[1], "the snapshot at iteration " + snap[0] + " follows its test");
      } else {
        assertEquals(snap[0] / 10 * 10, snap[1], "the snapshot at iteration " + snap[0] + " follows the last test");
      }
    }
    assertTrue(anyAtATest);
    for (int[] snap : off.snapshots()) {
      if (snap[0] % 10 == 0) {
        assertTrue(snap[1] < snap[0], "Caffe's order: the snapshot at " + snap[0] + " precedes its test");
      }
    }
  }
}
