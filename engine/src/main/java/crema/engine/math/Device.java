package crema.engine.math;

/**
 * A compute device that holds blobs in its own memory and runs the layers' device paths there:
 * Caffe's GPU mode. The engine's layers call these operations on {@link DeviceBuffer}s and never
 * branch on which device it is; the CUDA implementation lives in the {@code gpu} module.
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

  /** y = x > 0 ? x : slope·x. */
  void reluForward(int n, float slope, DeviceBuffer x, DeviceBuffer y);

  /** dx = dy · (x > 0 ? 1 : slope); in place x may be the output y, whose sign is x's. */
  void reluBackward(int n, float slope, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);

  void sigmoidForward(int n, DeviceBuffer x, DeviceBuffer y);

  /** dx = dy · y · (1 − y). */
  void sigmoidBackward(int n, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

  void tanhForward(int n, DeviceBuffer x, DeviceBuffer y);

  /** dx = dy · (1 − y²). */
  void tanhBackward(int n, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

  /** Max-shifted softmax over each row of a rows × cols matrix. */
  void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y);

  /** dx = (dy − Σ_c dy·y)·y per row. */
  void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

  /**
   * SoftmaxWithLoss over rows: loss[r] = −log(max(p[label], FLT_MIN)), dx = scale·(p − onehot),
   * counted[r] = 1 unless the row's label is {@code ignoreLabel} (when {@code hasIgnore}).
   */
  void softmaxLoss(int rows, int cols, DeviceBuffer prob, DeviceBuffer label, boolean hasIgnore,
      int ignoreLabel, float scale, DeviceBuffer loss, DeviceBuffer counted, DeviceBuffer dx);

  /**
   * Inverted dropout with a counter-based generator: unit i is kept when the hash of
   * ({@code seed}, i) is at least {@code ratio}; mask[i] is 1 or 0; y = x·mask/(1 − ratio).
   */
  void dropoutForward(int n, float ratio, int seed, DeviceBuffer x, DeviceBuffer mask,
      DeviceBuffer y);

  void dropoutBackward(int n, float ratio, DeviceBuffer mask, DeviceBuffer dy, DeviceBuffer dx);

  /** Caffe's SGD: history = momentum·history + rate·diff; diff = history. */
  void sgdUpdate(int n, float rate, float momentum, DeviceBuffer diff, DeviceBuffer history);

  /** Caffe's Adam step, with {@code correction} = √(1 − β2ᵗ)/(1 − β1ᵗ). */
  void adamUpdate(int n, float rate, float beta1, float beta2, float eps, float correction,
      DeviceBuffer diff, DeviceBuffer m, DeviceBuffer v);

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
