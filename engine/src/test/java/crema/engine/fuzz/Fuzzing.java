package crema.engine.fuzz;

/**
 * What the fuzz tests share. Each runs in its own JVM with a small heap (see the engine's pom), so
 * an input that makes a reader allocate without bound is an OutOfMemoryError, a finding; and each
 * input must finish quickly, so a reader that loops on some input fails instead of hanging CI.
 */
final class Fuzzing {
  /** Longest one input may take; these readers take microseconds. */
  static final long MAX_NANOS_PER_INPUT = 2_000_000_000L;

  private Fuzzing() {}

  static void inTime(long startNanos, String what, Object input) {
    long took = System.nanoTime() - startNanos;
    if (took > MAX_NANOS_PER_INPUT) {
      throw new AssertionError(what + " took " + took / 1_000_000 + " ms on " + input);
    }
  }
}
