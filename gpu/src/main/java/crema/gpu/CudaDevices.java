package crema.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * The NVIDIA devices this process can use, through the CUDA driver API only (libcuda.so.1, which
 * the driver installs; no CUDA toolkit libraries). CUDA_VISIBLE_DEVICES is the driver's to apply:
 * device 0 here is the first visible one. When there is no usable device, {@link #problem} says
 * what is missing, in one line.
 */
public final class CudaDevices {
  /** One device: what {@code crema device_query} prints, the check to run on a shared machine. */
  public record Device(int index, String name, int major, int minor, long totalBytes, long freeBytes,
      String pciBusId, String utilisation) {
    public long usedBytes() {
      return totalBytes - freeBytes;
    }
  }

  private final List<Device> devices;
  private final String problem;

  private CudaDevices(List<Device> devices, String problem) {
    this.devices = List.copyOf(devices);
    this.problem = problem;
  }

  public List<Device> devices() {
    return devices;
  }

  /** Why no device can be used ("" when some can). */
  public String problem() {
    return problem;
  }

  /** Looks once: loads the driver, initialises it, reads every visible device. */
  public static CudaDevices probe() {
    try {
      JCudaDriver.setExceptionsEnabled(true);
      JCudaDriver.cuInit(0);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      return new CudaDevices(List.of(), "no NVIDIA driver: libcuda.so.1 could not be loaded ("
          + firstLine(e.getMessage()) + ")");
    } catch (CudaException e) {
      return new CudaDevices(List.of(), "the NVIDIA driver did not initialise: " + e.getMessage()
          + visibleDevicesNote());
    }
    int[] count = new int[1];
    JCudaDriver.cuDeviceGetCount(count);
    if (count[0] == 0) {
      return new CudaDevices(List.of(), "no CUDA device is visible" + visibleDevicesNote());
    }
    List<Device> out = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      out.add(read(i));
    }
    return new CudaDevices(out, "");
  }

  private static Device read(int index) {
    CUdevice d = new CUdevice();
    JCudaDriver.cuDeviceGet(d, index);
    byte[] name = new byte[256];
    JCudaDriver.cuDeviceGetName(name, name.length, d);
    int[] major = new int[1];
    int[] minor = new int[1];
    JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    long[] total = new long[1];
    JCudaDriver.cuDeviceTotalMem(total, d);
    String[] bus = new String[1];
    JCudaDriver.cuDeviceGetPCIBusId(bus, 32, d);
    // Free memory needs a context on the device; the primary context is shared, not created anew.
    CUcontext ctx = new CUcontext();
    JCudaDriver.cuDevicePrimaryCtxRetain(ctx, d);
    long[] free = new long[1];
    long[] ignored = new long[1];
    try {
      JCudaDriver.cuCtxPushCurrent(ctx);
      JCudaDriver.cuMemGetInfo(free, ignored);
      JCudaDriver.cuCtxPopCurrent(new CUcontext());
    } finally {
      JCudaDriver.cuDevicePrimaryCtxRelease(d);
    }
    String busId = bus[0] == null ? "" : bus[0].trim();
    return new Device(index, cString(name), major[0], minor[0], total[0], free[0], busId, utilisation(busId));
  }

  /**
   * The GPU's current utilisation as nvidia-smi reports it (NVML is not part of the driver API);
   * "unknown (...)" when nvidia-smi is not there.
   */
  static String utilisation(String busId) {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
          "--id=" + busId).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "unknown (nvidia-smi: " + firstLine(out) + ")";
      }
      return out + "%";
    } catch (IOException e) {
      return "unknown (nvidia-smi not found)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static String visibleDevicesNote() {
    String v = System.getenv("CUDA_VISIBLE_DEVICES");
    return v == null ? "" : " (CUDA_VISIBLE_DEVICES=" + v + ")";
  }

  private static String cString(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.UTF_8);
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
