package crema.cli;

import crema.engine.Solver;
import sun.misc.Signal;

/** Caffe's signal handling: SIGINT and SIGHUP ask the solver to stop or snapshot after the current iteration. */
final class Signals {
  private Signals() {}

  static void install(Solver solver, Solver.Action onInt, Solver.Action onHup) {
    handle("INT", solver, onInt);
    handle("HUP", solver, onHup);
  }

  private static void handle(String name, Solver solver, Solver.Action action) {
    try {
      Signal.handle(new Signal(name), s -> solver.request(action));
    } catch (IllegalArgumentException e) {
      // The JVM keeps this signal for itself on this platform; the default behaviour stays.
    }
  }
}
