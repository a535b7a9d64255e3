package crema.engine;

import crema.engine.math.Backend;
import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Device} whose memory is the Java heap and whose kernels are the Java statements of
 * {@code gpu/src/main/cuda/crema_kernels.cu}, one for one. With it the engine's device paths —
 * which blob goes where, when memory synchronises, which kernel gets which arguments — are checked
 * on a machine without a GPU; the CUDA kernels themselves are checked by the conformance suite on
 * a real device. It counts transfers, so tests can see that a net stays on the device.
 */
public final class HostDevice implements Device {
  public int uploads;
  public int downloads;
  public final List<String> allocations = new ArrayList<>();
  private long allocated;
  private final Backend blas = Backend.cpu();

  static final class Buffer implements DeviceBuffer {
    float[] v;

    Buffer(long n) {
      v = new float[(int) n];
    }

    @Override
    public long capacity() {
      return v.length;
    }

    @Override
    public void free() {
      v = null;
    }
  }

  private static float[] a(DeviceBuffer b) {
    float[] v = ((Buffer) b).v;
    if (v == null) {
      throw new IllegalStateException("use of a freed device buffer");
    }
    return v;
  }

  @Override
  public String describe() {
    return "host device (kernels in Java)";
  }

  @Override
  public DeviceBuffer allocate(long floats, String what) {
    allocations.add(what);
    allocated += floats * 4;
    return new Buffer(floats);
  }

  @Override
  public void upload(float[] src, int n, DeviceBuffer dst) {
    uploads++;
    System.arraycopy(src, 0, a(dst), 0, n);
  }

  @Override
  public void download(DeviceBuffer src, int n, float[] dst) {
    downloads++;
    System.arraycopy(a(src), 0, dst, 0, n);
  }

  @Override
  public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DeviceBuffer x,
      DeviceBuffer y, float beta, DeviceBuffer c) {
    blas.gemm(transA, transB, m, n, k, alpha, a(x), 0, a(y), 0, beta, a(c), 0);
  }

  @Override
  public void gemv(boolean transA, int m, int n, float alpha, DeviceBuffer x, DeviceBuffer v,
      float beta, DeviceBuffer y) {
    blas.gemv(transA, m, n, alpha, a(x), 0, a(v), 0, beta, a(y), 0);
  }

  @Override
  public void axpy(int n, float alpha, DeviceBuffer x, DeviceBuffer y) {
    float[] xv = a(x);
    float[] yv = a(y);
    for (int i = 0; i < n; i++) {
      yv[i] += alpha * xv[i];
    }
  }

  @Override
  public void scal(int n, float alpha, DeviceBuffer x) {
    float[] v = a(x);
    for (int i = 0; i < n; i++) {
      v[i] *= alpha;
    }
  }

  @Override
  public void set(int n, float value, DeviceBuffer x) {
    java.util.Arrays.fill(a(x), 0, n, value);
  }

  @Override
  public void copy(int n, DeviceBuffer src, DeviceBuffer dst) {
    System.arraycopy(a(src), 0, a(dst), 0, n);
  }

  @Override
  public float dot(int n, DeviceBuffer x, DeviceBuffer y) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += (double) a(x)[i] * a(y)[i];
    }
    return (float) s;
  }

  @Override
  public void reluForward(int n, float slope, DeviceBuffer x, DeviceBuffer y) {
    float[] xv = a(x);
    float[] yv = a(y);
    for (int i = 0; i < n; i++) {
      yv[i] = xv[i] > 0 ? xv[i] : slope * xv[i];
    }
  }

  @Override
  public void reluBackward(int n, float slope, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
    for (int i = 0; i < n; i++) {
      a(dx)[i] = a(dy)[i] * (a(x)[i] > 0 ? 1f : slope);
    }
  }

  @Override
  public void sigmoidForward(int n, DeviceBuffer x, DeviceBuffer y) {
    for (int i = 0; i < n; i++) {
      a(y)[i] = 0.5f * (float) Math.tanh(0.5f * a(x)[i]) + 0.5f;
    }
  }

  @Override
  public void sigmoidBackward(int n, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
    for (int i = 0; i < n; i++) {
      a(dx)[i] = a(dy)[i] * a(y)[i] * (1f - a(y)[i]);
    }
  }

  @Override
  public void tanhForward(int n, DeviceBuffer x, DeviceBuffer y) {
    for (int i = 0; i < n; i++) {
      a(y)[i] = (float) Math.tanh(a(x)[i]);
    }
  }

  @Override
  public void tanhBackward(int n, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
    for (int i = 0; i < n; i++) {
      a(dx)[i] = a(dy)[i] * (1f - a(y)[i] * a(y)[i]);
    }
  }

  @Override
  public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
    float[] xv = a(x);
    float[] yv = a(y);
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      float m = xv[o];
      for (int c = 1; c < cols; c++) {
        m = Math.max(m, xv[o + c]);
      }
      float s = 0;
      for (int c = 0; c < cols; c++) {
        yv[o + c] = (float) Math.exp(xv[o + c] - m);
        s += yv[o + c];
      }
      for (int c = 0; c < cols; c++) {
        yv[o + c] /= s;
      }
    }
  }

  @Override
  public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
    float[] yv = a(y);
    float[] g = a(dy);
    float[] out = a(dx);
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      float dot = 0;
      for (int c = 0; c < cols; c++) {
        dot += g[o + c] * yv[o + c];
      }
      for (int c = 0; c < cols; c++) {
        out[o + c] = (g[o + c] - dot) * yv[o + c];
      }
    }
  }

  @Override
  public void softmaxLoss(int rows, int cols, DeviceBuffer prob, DeviceBuffer label,
      boolean hasIgnore, int ignoreLabel, float scale, DeviceBuffer loss, DeviceBuffer counted,
      DeviceBuffer dx) {
    float[] p = a(prob);
    for (int r = 0; r < rows; r++) {
      int l = (int) a(label)[r];
      boolean ignored = hasIgnore && l == ignoreLabel;
      for (int c = 0; c < cols; c++) {
        a(dx)[r * cols + c] = ignored ? 0f : scale * (p[r * cols + c] - (c == l ? 1f : 0f));
      }
      a(loss)[r] = ignored ? 0f : -(float) Math.log(Math.max(p[r * cols + l], Float.MIN_NORMAL));
      a(counted)[r] = ignored ? 0f : 1f;
    }
  }

  /** The kernel's hash (crema_hash), in Java's 32-bit int arithmetic. */
  static int hash(int x) {
    x ^= x >>> 16;
    x *= 0x7feb352d;
    x ^= x >>> 15;
    x *= 0x846ca68b;
    x ^= x >>> 16;
    return x;
  }

  @Override
  public void dropoutForward(int n, float ratio, int seed, DeviceBuffer x, DeviceBuffer mask,
      DeviceBuffer y) {
    for (int i = 0; i < n; i++) {
      float u = (hash(seed ^ hash(i)) >>> 8) * (1.0f / 16777216.0f);
      float keep = u >= ratio ? 1f : 0f;
      a(mask)[i] = keep;
      a(y)[i] = a(x)[i] * keep / (1f - ratio);
    }
  }

  @Override
  public void dropoutBackward(int n, float ratio, DeviceBuffer mask, DeviceBuffer dy, DeviceBuffer dx) {
    for (int i = 0; i < n; i++) {
      a(dx)[i] = a(dy)[i] * a(mask)[i] / (1f - ratio);
    }
  }

  @Override
  public void sgdUpdate(int n, float rate, float momentum, DeviceBuffer diff, DeviceBuffer history) {
    for (int i = 0; i < n; i++) {
      a(history)[i] = momentum * a(history)[i] + rate * a(diff)[i];
      a(diff)[i] = a(history)[i];
    }
  }

  @Override
  public void adamUpdate(int n, float rate, float beta1, float beta2, float eps, float correction,
      DeviceBuffer diff, DeviceBuffer m, DeviceBuffer v) {
    for (int i = 0; i < n; i++) {
      float g = a(diff)[i];
      a(m)[i] = (1f - beta1) * g + beta1 * a(m)[i];
      a(v)[i] = (1f - beta2) * (g * g) + beta2 * a(v)[i];
      a(diff)[i] = (rate * correction) * (a(m)[i] / ((float) Math.sqrt(a(v)[i]) + eps));
    }
  }

  @Override
  public long allocatedBytes() {
    return allocated;
  }

  @Override
  public void close() {}
}
