package crema.gpu;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Caffe's {@code -gpu} flag: {@code 0}, {@code 0,1} or {@code all}, checked against the devices there are. */
public final class GpuSelection {
  private GpuSelection() {}

  /**
   * The device indices {@code flag} names. An empty flag names none (the CPU); an id the machine
   * does not have is an error that says how many there are.
   */
  public static List<Integer> parse(String flag, int deviceCount) {
    if (flag == null || flag.isBlank()) {
      return List.of();
    }
    if (flag.trim().equals("all")) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < deviceCount; i++) {
        all.add(i);
      }
      return all;
    }
    Set<Integer> ids = new LinkedHashSet<>();
    for (String part : flag.split(",")) {
      int id;
      try {
        id = Integer.parseInt(part.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("-gpu " + flag + ": '" + part.trim() + "' is not a device id"
            + " (give ids like 0 or 0,1, or all)");
      }
      if (id < 0 || id >= deviceCount) {
        throw new IllegalArgumentException("-gpu " + flag + ": there is no device " + id + "; this machine shows "
            + deviceCount + " (ids 0 to " + (deviceCount - 1) + ", after CUDA_VISIBLE_DEVICES)");
      }
      if (!ids.add(id)) {
        throw new IllegalArgumentException("-gpu " + flag + ": device " + id + " is named twice");
      }
    }
    return List.copyOf(ids);
  }
}
