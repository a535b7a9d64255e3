package crema.engine.math;

/**
 * A compute device that holds blobs in its own memory and runs the layers' device paths there:
 * Caffe's GPU mode. The engine's layers call these operations on {@link DeviceBuffer}s and never
 * branch on which device it is; the CUDA implementation lives in the {@code gpu} module.
 *
 * <p>The operations here are the ones every layer shares: memory, copies and BLAS-like math. A
 * layer's or solver's own kernels are declared in its own file as {@link Kernel}s and run with
 * {@link #launch}, so a new device path touches only that layer and its CUDA source.
 *
 * <p>Matrices are row-major, as in {@link Backend}. Every operation is ordered after the ones
 * issued before it on the same device (one stream), and {@link #download} waits for them.
 */
public interface Device extends AutoCloseable {
  /** A name for logs: the device and which path its math takes (cuBLAS or Crema's kernels). */
  String describe();

  /**
   * Allocates room for {@code floats} values, named for the error a failed allocation gives
   * ({@code "blob ip1 (64 30) data"}): out of memory names the blob, the size and the remedy.
   */
  DeviceBuffer allocate(long floats, String what);

  /** Copies {@code n} values from the host into {@code dst}. */
  void upload(float[] src, int n, DeviceBuffer dst);

  /** Copies {@code n} values from {@code src} to the host, after every operation issued before. */
  void download(DeviceBuffer src, int n, float[] dst);

  /** C = alpha·op(A)·op(B) + beta·C, row-major, op(A) M×K, op(B) K×N. */
  void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DeviceBuffer a,
      DeviceBuffer b, float beta, DeviceBuffer c);

  /** y = alpha·op(A)·x + beta·y with A row-major M×N. */
  void gemv(boolean transA, int m, int n, float alpha, DeviceBuffer a, DeviceBuffer x, float beta,
      DeviceBuffer y);

  /** y = alpha·x + y. */
  void axpy(int n, float alpha, DeviceBuffer x, DeviceBuffer y);

  /** x = alpha·x. */
  void scal(int n, float alpha, DeviceBuffer x);

  /** x[i] = value. */
  void set(int n, float value, DeviceBuffer x);

  /** dst = src. */
  void copy(int n, DeviceBuffer src, DeviceBuffer dst);

  /** Σ x[i]·y[i], accumulated on the device. */
  float dot(int n, DeviceBuffer x, DeviceBuffer y);

  /**
   * Runs {@code kernel} on {@code threads} threads (indices 0 to threads − 1), ordered after the
   * operations issued before it. {@code args} follow the kernel's signature: Integer, Float or
   * {@link DeviceBuffer}; a launch with arguments that do not fit fails before it runs.
   */
  void launch(Kernel kernel, int threads, Object... args);

  /** Bytes of device memory in use by this process's allocations. */
  long allocatedBytes();

  @Override
  void close();

  /** The device this thread's nets are built on (Caffe's per-thread mode); null: the CPU. */
  static Device current() {
    return Devices.CURRENT.get();
  }

  /** Makes nets built on this thread use {@code device} (null: the CPU), as caffe.SetDevice. */
  static void use(Device device) {
    Devices.CURRENT.set(device);
  }
}
