package crema.cli;

import caffe.Caffe.Phase;
import java.util.ArrayList;
import java.util.List;

/** Parsing of Caffe's flag values. */
final class Flags {
  private Flags() {}

  /** "a,b,c" as a list, empty entries dropped (Caffe's -stage and -weights). */
  static List<String> commaList(String value) {
    List<String> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    for (String s : value.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  static Phase phase(String value) {
    if (value == null || value.isEmpty() || value.equals("TRAIN")) {
      return Phase.TRAIN;
    }
    if (value.equals("TEST")) {
      return Phase.TEST;
    }
    throw new IllegalArgumentException("Unknown phase " + value + " (use TRAIN or TEST)");
  }

  /**
   * Answers an explicit -gpu: when no device is usable, one error naming what is missing (no
   * driver, no device, an id the machine lacks); when devices are there, the GPU backend does not
   * run layers yet (issue 6), which is said as plainly.
   */
  static void requireCpu(String gpu) {
    if (gpu == null || gpu.isEmpty()) {
      return;
    }
    crema.gpu.CudaDevices found = crema.gpu.CudaDevices.probe();
    if (found.devices().isEmpty()) {
      throw new IllegalArgumentException("-gpu " + gpu + " was requested, but " + found.problem());
    }
    List<Integer> ids = crema.gpu.GpuSelection.parse(gpu, found.devices().size());
    throw new IllegalArgumentException("-gpu " + gpu + " was requested and " + found.devices().get(ids.get(0)).name()
        + " is there, but this build's GPU backend does not run layers yet; run without -gpu to use the CPU");
  }

  /** The one line Caffe users see when a solver asks for the GPU and gets the CPU. */
  static String gpuFallback() {
    crema.gpu.CudaDevices found = crema.gpu.CudaDevices.probe();
    return "solver_mode is GPU but " + (found.devices().isEmpty() ? found.problem()
        : "this build's GPU backend does not run layers yet") + ": using the CPU";
  }
}
