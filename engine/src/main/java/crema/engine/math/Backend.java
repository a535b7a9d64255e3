package crema.engine.math;

/**
 * The math the layers and solvers use, in Caffe's row-major conventions (caffe_cpu_gemm and
 * friends). The CPU implementation goes through BLAS; a GPU backend implements the same calls.
 * Layers never branch on the device themselves.
 */
public interface Backend {
  /** A name for logs: which implementation runs the math. */
  String describe();

  /** C = alpha·op(A)·op(B) + beta·C, with op(A) M×K, op(B) K×N, C M×N, all row-major. */
  void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int offA,
      float[] b, int offB, float beta, float[] c, int offC);

  /** y = alpha·op(A)·x + beta·y with A row-major M×N. */
  void gemv(boolean transA, int m, int n, float alpha, float[] a, int offA, float[] x, int offX,
      float beta, float[] y, int offY);

  /** y = alpha·x + y. */
  void axpy(int n, float alpha, float[] x, int offX, float[] y, int offY);

  /** y = alpha·x + beta·y. */
  default void axpby(int n, float alpha, float[] x, int offX, float beta, float[] y, int offY) {
    scal(n, beta, y, offY);
    axpy(n, alpha, x, offX, y, offY);
  }

  /** x = alpha·x. */
  void scal(int n, float alpha, float[] x, int offX);

  float dot(int n, float[] x, int offX, float[] y, int offY);

  float asum(int n, float[] x, int offX);

  /** The backend chosen for this process: the CPU, until a device backend is selected. */
  static Backend cpu() {
    return CpuBackend.INSTANCE;
  }
}
