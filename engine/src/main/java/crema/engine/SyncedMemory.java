package crema.engine;

import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import java.util.Arrays;

/**
 * One array of a blob (its data or its diff) on the host and, once a device path touches it, on a
 * device: Caffe's SyncedMemory. Copies happen lazily, only when the side asked for is stale.
 *
 * <p>The host array is handed out mutable, so asking for it makes the host the only current copy
 * (Caffe's mutable_cpu_data); a device path that only reads asks for {@link #deviceReadOnly},
 * which leaves both sides current.
 */
final class SyncedMemory {
  enum Head { HOST, DEVICE, SYNCED }

  private final Blob owner;
  private final String kind;
  private float[] host = new float[0];
  private Device device;
  private DeviceBuffer buffer;
  private Head head = Head.HOST;
  private int count;

  SyncedMemory(Blob owner, String kind) {
    this.owner = owner;
    this.kind = kind;
  }

  Head head() {
    return head;
  }

  /** Sets the number of meaningful values; grows the storage (keeping values) when needed. */
  void resize(int newCount) {
    if (newCount > host.length) {
      float[] current = host();
      host = Arrays.copyOf(current, newCount);
      if (buffer != null) {
        buffer.free();
        buffer = null;
      }
    }
    count = newCount;
  }

  /** The host values, current; the host becomes the only current copy. */
  float[] host() {
    if (head == Head.DEVICE) {
      device.download(buffer, count, host);
    }
    head = Head.HOST;
    return host;
  }

  /** The host values for reading: both sides stay current. */
  float[] hostReadOnly() {
    if (head == Head.DEVICE) {
      device.download(buffer, count, host);
      head = Head.SYNCED;
    }
    return host;
  }

  /** The device values, current; the device becomes the only current copy. */
  DeviceBuffer device(Device d) {
    DeviceBuffer b = deviceReadOnly(d);
    head = Head.DEVICE;
    return b;
  }

  /** The device values for reading: both sides stay current. */
  DeviceBuffer deviceReadOnly(Device d) {
    bind(d);
    if (head == Head.HOST) {
      device.upload(host, count, buffer);
      head = Head.SYNCED;
    }
    return buffer;
  }

  /** Whether the device holds the only current copy (so filling should happen there). */
  boolean onDevice() {
    return head == Head.DEVICE;
  }

  Device boundDevice() {
    return device;
  }

  private void bind(Device d) {
    if (device != null && device != d) {
      // Moving a blob between devices goes through the host (multi-device replicas never share).
      host();
      if (buffer != null) {
        buffer.free();
        buffer = null;
      }
    }
    device = d;
    if (buffer == null) {
      buffer = d.allocate(Math.max(host.length, 1), "blob " + owner.name() + " " + kind + " (" + owner.shapeString() + ")");
    }
  }

  void release() {
    if (buffer != null) {
      host();
      buffer.free();
      buffer = null;
    }
  }
}
