package crema.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaDevicesTest {
  /**
   * Without a driver the probe says, in one line, that libcuda.so.1 is missing; with one, each
   * device has a name, a compute capability and memory figures that add up.
   */
  @Test
  void probeReportsDevicesOrWhatIsMissing() {
    CudaDevices found = CudaDevices.probe();
    if (found.devices().isEmpty()) {
      assertFalse(found.problem().isEmpty());
      assertFalse(found.problem().contains("\n"), "one line: " + found.problem());
      boolean driverInstalled = new java.io.File("/usr/lib/x86_64-linux-gnu/libcuda.so.1").exists();
      if (!driverInstalled) {
        assertTrue(found.problem().startsWith("no NVIDIA driver: libcuda.so.1 could not be loaded"), found.problem());
      }
    } else {
      assertEquals("", found.problem());
      for (CudaDevices.Device d : found.devices()) {
        assertFalse(d.name().isBlank());
        assertTrue(d.major() >= 3, d.toString());
        assertTrue(d.totalBytes() > 0 && d.freeBytes() <= d.totalBytes(), d.toString());
      }
    }
  }

  @Test
  void utilisationWithoutNvidiaSmiSaysSo() {
    String u = CudaDevices.utilisation("0000:00:00.0");
    assertTrue(u.endsWith("%") || u.startsWith("unknown"), u);
  }
}
