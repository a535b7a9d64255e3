package crema.engine.fuzz;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * What the fuzz tests share. Each runs in its own JVM with a small heap (see the engine's pom), so
 * an input that makes a reader allocate without bound is an OutOfMemoryError, a finding; and each
 * input must finish quickly, so a reader that loops on some input fails instead of hanging CI.
 */
final class Fuzzing {
  /** Longest one input may take; these readers take microseconds. */
  static final long MAX_NANOS_PER_INPUT = 2_000_000_000L;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private Fuzzing() {}

  /**
   * The fuzzing thread's CPU time now, for {@link #inTime}. CPU time rather than the clock: a
   * reader that loops spends it, while a GC pause, the JIT or a CI machine's other work do not (a
   * 17-character prototxt once took 2 s by the clock on a loaded CI run, and 1 ms again).
   */
  static long start() {
    return THREADS.getCurrentThreadCpuTime();
  }

  static void inTime(long startNanos, String what, Object input) {
    long took = THREADS.getCurrentThreadCpuTime() - startNanos;
    if (took > MAX_NANOS_PER_INPUT) {
      throw new AssertionError(what + " took " + took / 1_000_000 + " ms of CPU on " + input);
    }
  }
}
