package crema.engine.math;

/** Holds the per-thread device choice of {@link Device#current()}. */
final class Devices {
  static final InheritableThreadLocal<Device> CURRENT = new InheritableThreadLocal<>();

  private Devices() {}
}
