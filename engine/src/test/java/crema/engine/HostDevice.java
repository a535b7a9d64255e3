package crema.engine;

import crema.engine.math.Backend;
import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import crema.engine.math.Kernel;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Device} whose memory is the Java heap and whose kernels run their {@link Kernel}'s
 * host body: the Java statements of the layer's CUDA kernel, one for one. With it the engine's device paths —
 * which blob goes where, when memory synchronises, which kernel gets which arguments — are checked
 * on a machine without a GPU; the CUDA kernels themselves are checked by the conformance suite on
 * a real device. It counts transfers, so tests can see that a net stays on the device.
 */
public final class HostDevice implements Device {
  public int uploads;
  public int downloads;
  public final List<String> allocations = new ArrayList<>();
  /** The kernels launched, by name, in order. */
  public final List<String> launches = new ArrayList<>();
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
  public void launch(Kernel kernel, int threads, Object... args) {
    kernel.check(args);
    Object[] host = args.clone();
    for (int k = 0; k < host.length; k++) {
      if (host[k] instanceof DeviceBuffer buffer) {
        host[k] = a(buffer);
      }
    }
    launches.add(kernel.name());
    kernel.runOnHost(threads, host);
  }

  @Override
  public long allocatedBytes() {
    return allocated;
  }

  @Override
  public void close() {}
}
