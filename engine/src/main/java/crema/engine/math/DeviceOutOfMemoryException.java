package crema.engine.math;

import java.util.Locale;

/**
 * A device allocation that did not fit: names the blob, its size and what is free, and gives the
 * advice Caffe users needed — a smaller batch_size, with a larger iter_size keeping the effective
 * batch.
 */
public final class DeviceOutOfMemoryException extends RuntimeException {
  public DeviceOutOfMemoryException(String device, String what, long bytes, long freeBytes,
      long totalBytes) {
    super(String.format(Locale.ROOT, "out of memory on %s allocating %s: %s needed, %s free of %s."
        + " Lower batch_size in the data layer and raise iter_size in the solver by the same factor"
        + " to keep the effective batch (batch_size × iter_size); other processes on the device"
        + " show in `crema device_query`.", device, what, size(bytes), size(freeBytes),
        size(totalBytes)));
  }

  /** 1536 → "1.5 KiB". */
  static String size(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
