package crema.engine.math;

import dev.ludovic.netlib.blas.BLAS;
import java.lang.System.Logger.Level;

/**
 * The CPU math through netlib's BLAS interface, over the OpenBLAS bundled in the jar (see
 * {@link NativeBlas}: a system BLAS only when asked for, netlib's Java BLAS when nothing native
 * loads). netlib falls back silently, so the choice (library, file, kernel, threads) is the first
 * line this class logs.
 *
 * <p>BLAS is column-major; a row-major product C = A·B is computed as Cᵀ = Bᵀ·Aᵀ by swapping the
 * operands, exactly as Caffe's caffe_cpu_gemm does over cblas.
 */
final class CpuBackend implements Backend {
  private static final System.Logger LOG = System.getLogger(CpuBackend.class.getName());
  static final CpuBackend INSTANCE = new CpuBackend();

  private final BLAS blas;
  private final String description;

  private CpuBackend() {
    NativeBlas loaded = NativeBlas.load();
    blas = loaded.blas;
    description = loaded.describe();
    LOG.log(Level.INFO, "CPU math: " + description);
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int offA, float[] b, int offB, float beta, float[] c, int offC) {
    if (m == 0 || n == 0) {
      return;
    }
    int lda = transA ? m : k;
    int ldb = transB ? k : n;
    blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, offB, Math.max(1, ldb), a,
        offA, Math.max(1, lda), beta, c, offC, Math.max(1, n));
  }

  @Override
  public void gemv(boolean transA, int m, int n, float alpha, float[] a, int offA, float[] x,
      int offX, float beta, float[] y, int offY) {
    if (m == 0 || n == 0) {
      return;
    }
    // Row-major M×N is column-major N×M: flip the transpose flag.
    blas.sgemv(transA ? "N" : "T", n, m, alpha, a, offA, Math.max(1, n), x, offX, 1, beta, y, offY, 1);
  }

  @Override
  public void axpy(int n, float alpha, float[] x, int offX, float[] y, int offY) {
    if (n > 0) {
      blas.saxpy(n, alpha, x, offX, 1, y, offY, 1);
    }
  }

  @Override
  public void axpby(int n, float alpha, float[] x, int offX, float beta, float[] y, int offY) {
    // OpenBLAS's saxpby computes alpha·x + beta·y per element; so does this loop.
    for (int i = 0; i < n; i++) {
      y[offY + i] = alpha * x[offX + i] + beta * y[offY + i];
    }
  }

  @Override
  public void scal(int n, float alpha, float[] x, int offX) {
    if (n > 0) {
      blas.sscal(n, alpha, x, offX, 1);
    }
  }

  @Override
  public float dot(int n, float[] x, int offX, float[] y, int offY) {
    return n > 0 ? blas.sdot(n, x, offX, 1, y, offY, 1) : 0f;
  }

  @Override
  public float asum(int n, float[] x, int offX) {
    return n > 0 ? blas.sasum(n, x, offX, 1) : 0f;
  }
}
