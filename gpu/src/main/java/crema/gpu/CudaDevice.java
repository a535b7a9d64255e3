package crema.gpu;

import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import crema.engine.math.DeviceOutOfMemoryException;
import crema.engine.math.Kernel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;

/**
 * One NVIDIA GPU as the engine's {@link Device}, through the CUDA driver API: blobs in device
 * memory, Crema's kernels from the jar's PTX (one module per CUDA source, loaded at its first
 * launch), and GEMM/GEMV/AXPY by cuBLAS when JCublas can load libcublas.so.12, else by Crema's own
 * PTX kernels. {@link #describe()} says which path runs.
 *
 * <p>It uses the device's primary context (the one the CUDA runtime and cuBLAS share) and makes it
 * current on whichever thread calls. Every operation goes on the default stream, so operations run
 * in issue order and a download waits for the ones before it.
 */
public final class CudaDevice implements Device {
  private static final int THREADS = 256;
  private static final int TILE = 16;

  private final int ordinal;
  private final String name;
  private final CUdevice dev = new CUdevice();
  private final CUcontext context = new CUcontext();
  /** The loaded PTX modules by source name: crema_blas at start, each layer's at its first launch. */
  private final Map<String, CUmodule> modules = new HashMap<>();
  /** Functions by "source/name". */
  private final Map<String, CUfunction> functions = new HashMap<>();
  private final cublasHandle cublas;
  private final String gemmPath;
  private final AtomicLong allocated = new AtomicLong();
  /** The device whose context is current on each thread (replicas of one process share threads). */
  private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

  /** Opens device {@code ordinal} (after CUDA_VISIBLE_DEVICES), loading the kernels' PTX. */
  public CudaDevice(int ordinal) {
    this.ordinal = ordinal;
    JCudaDriver.setExceptionsEnabled(true);
    JCudaDriver.cuInit(0);
    JCudaDriver.cuDeviceGet(dev, ordinal);
    byte[] n = new byte[256];
    JCudaDriver.cuDeviceGetName(n, n.length, dev);
    int len = 0;
    while (len < n.length && n[len] != 0) {
      len++;
    }
    name = "GPU " + ordinal + " (" + new String(n, 0, len, StandardCharsets.UTF_8) + ")";
    JCudaDriver.cuDevicePrimaryCtxRetain(context, dev);
    makeCurrent();
    module(Kernels.BLAS);
    cublasHandle handle = null;
    String path;
    try {
      JCublas2.setExceptionsEnabled(true);
      cublasHandle h = new cublasHandle();
      JCublas2.cublasCreate(h);
      handle = h;
      path = "cuBLAS (libcublas.so.12) for GEMM, GEMV and AXPY";
    } catch (Throwable e) {
      // UnsatisfiedLinkError when libcublas.so.12 is absent (a CUDA 13 machine), possibly wrapped
      // in the class initialiser's error, or a cuBLAS error.
      Throwable cause = e;
      while (cause.getCause() != null && cause.getMessage() == null) {
        cause = cause.getCause();
      }
      path = "Crema's PTX kernels for GEMM, GEMV and AXPY (cuBLAS 12 not loaded: "
          + CudaDevices.firstLine(cause.getClass().getSimpleName() + ": " + cause.getMessage()) + ")";
    }
    cublas = handle;
    gemmPath = path;
  }

  private void makeCurrent() {
    if (CURRENT.get() != this) {
      JCudaDriver.cuCtxSetCurrent(context);
      CURRENT.set(this);
    }
  }

  /** Whether GEMM goes through cuBLAS (else through Crema's PTX). */
  public boolean usesCublas() {
    return cublas != null;
  }

  @Override
  public String describe() {
    return name + ", " + gemmPath;
  }

  private static final class Buffer implements DeviceBuffer {
    final CUdeviceptr ptr;
    final long capacity;
    final CudaDevice owner;
    boolean freed;

    Buffer(CUdeviceptr ptr, long capacity, CudaDevice owner) {
      this.ptr = ptr;
      this.capacity = capacity;
      this.owner = owner;
    }

    @Override
    public long capacity() {
      return capacity;
    }

    @Override
    public void free() {
      if (!freed) {
        freed = true;
        owner.makeCurrent();
        JCudaDriver.cuMemFree(ptr);
        owner.allocated.addAndGet(-capacity * Sizeof.FLOAT);
      }
    }
  }

  private static CUdeviceptr p(DeviceBuffer b) {
    return ((Buffer) b).ptr;
  }

  @Override
  public DeviceBuffer allocate(long floats, String what) {
    makeCurrent();
    CUdeviceptr ptr = new CUdeviceptr();
    long bytes = floats * Sizeof.FLOAT;
    try {
      JCudaDriver.cuMemAlloc(ptr, bytes);
    } catch (CudaException e) {
      if (e.getMessage() != null && e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        throw new DeviceOutOfMemoryException(name, what, bytes, free[0], total[0]);
      }
      throw e;
    }
    allocated.addAndGet(bytes);
    return new Buffer(ptr, floats, this);
  }

  @Override
  public void upload(float[] src, int n, DeviceBuffer dst) {
    makeCurrent();
    if (n > 0) {
      JCudaDriver.cuMemcpyHtoD(p(dst), Pointer.to(src), (long) n * Sizeof.FLOAT);
    }
  }

  @Override
  public void download(DeviceBuffer src, int n, float[] dst) {
    makeCurrent();
    if (n > 0) {
      JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), p(src), (long) n * Sizeof.FLOAT);
    }
  }

  private CUmodule module(String source) {
    return modules.computeIfAbsent(source, s -> {
      CUmodule m = new CUmodule();
      JCudaDriver.cuModuleLoadData(m, Kernels.ptx(s));
      return m;
    });
  }

  private static CUfunction function(CUmodule module, String name) {
    CUfunction f = new CUfunction();
    JCudaDriver.cuModuleGetFunction(f, module, name);
    return f;
  }

  private CUfunction fn(String kernel) {
    return functions.computeIfAbsent(Kernels.BLAS + "/" + kernel,
        k -> function(module(Kernels.BLAS), kernel));
  }

  /** One thread per element, in blocks of 256. */
  private void launch1d(String kernel, int n, Pointer... args) {
    if (n <= 0) {
      return;
    }
    makeCurrent();
    Pointer[] params = args;
    JCudaDriver.cuLaunchKernel(fn(kernel), (n + THREADS - 1) / THREADS, 1, 1, THREADS, 1, 1, 0, null,
        Pointer.to(params), null);
  }

  private static Pointer i(int v) {
    return Pointer.to(new int[] {v});
  }

  private static Pointer f(float v) {
    return Pointer.to(new float[] {v});
  }

  private static Pointer b(DeviceBuffer buffer) {
    return Pointer.to(p(buffer));
  }

  @Override
  public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DeviceBuffer a,
      DeviceBuffer bm, float beta, DeviceBuffer c) {
    if (m == 0 || n == 0) {
      return;
    }
    makeCurrent();
    if (cublas != null) {
      // Column-major cuBLAS computes the row-major C = A·B as Cᵀ = Bᵀ·Aᵀ, as Caffe's caffe_gpu_gemm.
      int lda = transA ? m : k;
      int ldb = transB ? k : n;
      JCublas2.cublasSgemm(cublas, transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
          transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N, n, m, k, f(alpha), p(bm),
          Math.max(1, ldb), p(a), Math.max(1, lda), f(beta), p(c), Math.max(1, n));
      return;
    }
    Pointer params = Pointer.to(i(transA ? 1 : 0), i(transB ? 1 : 0), i(m), i(n), i(k), f(alpha), b(a),
        b(bm), f(beta), b(c));
    JCudaDriver.cuLaunchKernel(fn("crema_sgemm"), (n + TILE - 1) / TILE, (m + TILE - 1) / TILE, 1, TILE,
        TILE, 1, 0, null, params, null);
  }

  @Override
  public void gemv(boolean transA, int m, int n, float alpha, DeviceBuffer a, DeviceBuffer x,
      float beta, DeviceBuffer y) {
    if (m == 0 || n == 0) {
      return;
    }
    if (cublas != null) {
      makeCurrent();
      JCublas2.cublasSgemv(cublas, transA ? cublasOperation.CUBLAS_OP_N : cublasOperation.CUBLAS_OP_T, n, m,
          f(alpha), p(a), Math.max(1, n), p(x), 1, f(beta), p(y), 1);
      return;
    }
    // y = op(A)·x is a GEMM with one column.
    if (transA) {
      gemm(true, false, n, 1, m, alpha, a, x, beta, y);
    } else {
      gemm(false, false, m, 1, n, alpha, a, x, beta, y);
    }
  }

  @Override
  public void axpy(int n, float alpha, DeviceBuffer x, DeviceBuffer y) {
    if (cublas != null && n > 0) {
      makeCurrent();
      JCublas2.cublasSaxpy(cublas, n, f(alpha), p(x), 1, p(y), 1);
      return;
    }
    launch1d("crema_axpy", n, i(n), f(alpha), b(x), b(y));
  }

  @Override
  public void scal(int n, float alpha, DeviceBuffer x) {
    launch1d("crema_scal", n, i(n), f(alpha), b(x));
  }

  @Override
  public void set(int n, float value, DeviceBuffer x) {
    launch1d("crema_set", n, i(n), f(value), b(x));
  }

  @Override
  public void copy(int n, DeviceBuffer src, DeviceBuffer dst) {
    if (n > 0 && src != dst) {
      makeCurrent();
      JCudaDriver.cuMemcpyDtoD(p(dst), p(src), (long) n * Sizeof.FLOAT);
    }
  }

  @Override
  public float dot(int n, DeviceBuffer x, DeviceBuffer y) {
    // Used for gradient clipping's norm only: summed on the host in double, after one copy.
    float[] hx = new float[n];
    download(x, n, hx);
    float[] hy = hx;
    if (y != x) {
      hy = new float[n];
      download(y, n, hy);
    }
    double s = 0;
    for (int k = 0; k < n; k++) {
      s += (double) hx[k] * hy[k];
    }
    return (float) s;
  }

  @Override
  public void launch(Kernel kernel, int threads, Object... args) {
    kernel.check(args);
    if (threads <= 0) {
      return;
    }
    Pointer[] params = new Pointer[args.length];
    for (int k = 0; k < args.length; k++) {
      Object a = args[k];
      params[k] = a instanceof DeviceBuffer buffer ? b(buffer)
          : a instanceof Integer v ? i(v) : f((Float) a);
    }
    makeCurrent();
    CUfunction f = functions.computeIfAbsent(kernel.source() + "/" + kernel.name(),
        k -> function(module(kernel.source()), kernel.name()));
    JCudaDriver.cuLaunchKernel(f, (threads + THREADS - 1) / THREADS, 1, 1, THREADS, 1, 1, 0, null,
        Pointer.to(params), null);
  }

  @Override
  public long allocatedBytes() {
    return allocated.get();
  }

  /** Waits for every operation issued so far (for timing). */
  public void synchronize() {
    makeCurrent();
    JCudaDriver.cuCtxSynchronize();
  }

  @Override
  public void close() {
    makeCurrent();
    if (cublas != null) {
      JCublas2.cublasDestroy(cublas);
    }
    for (CUmodule m : modules.values()) {
      JCudaDriver.cuModuleUnload(m);
    }
    modules.clear();
    functions.clear();
    JCudaDriver.cuDevicePrimaryCtxRelease(dev);
    CURRENT.remove();
  }

  @Override
  public String toString() {
    return describe() + " #" + ordinal;
  }
}
