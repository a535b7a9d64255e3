package crema.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import crema.engine.check.Conformance;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance suite on every CUDA device present: each layer against the CPU within 1e-5,
 * each solver against Caffe's otto-mini fixture. Without a device it is skipped, saying why; the
 * engine's DeviceTest runs the same suite on the host device either way.
 */
class CudaConformanceTest {
  @TempDir
  Path tmp;

  @Test
  void everyLayerAndSolverAgreesWithTheCpuOnEachGpu() {
    CudaDevices found = CudaDevices.probe();
    assumeTrue(found.problem().isEmpty(), "no GPU here: " + found.problem());
    Path fixture = Path.of("..", "fixtures", "otto-mini").toAbsolutePath().normalize();
    for (CudaDevices.Device d : found.devices()) {
      try (CudaDevice device = new CudaDevice(d.index())) {
        System.out.println(device.describe());
        Conformance c = new Conformance(device).layers().solvers(fixture, tmp);
        c.results().forEach(System.out::println);
        for (Conformance.Result r : c.results()) {
          assertTrue(r.passed(), device.describe() + ": " + r);
        }
      }
    }
  }
}
