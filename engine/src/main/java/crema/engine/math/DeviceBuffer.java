package crema.engine.math;

/** Memory on a {@link Device}: a handle the device's operations take. */
public interface DeviceBuffer {
  /** Room in floats. */
  long capacity();

  /** Returns the memory to the device; the buffer is unusable afterwards. */
  void free();
}
