package crema.engine;

import caffe.Caffe.BlobProto;
import caffe.Caffe.BlobShape;
import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import java.util.Arrays;

/**
 * An N-dimensional array of floats with a gradient of the same shape: Caffe's Blob. Storage is
 * row-major, so a 4-D blob (N, C, H, W) holds element (n, c, h, w) at ((n·C + c)·H + h)·W + w.
 *
 * <p>Reshaping keeps the storage when it is large enough, as Caffe does, so a net that reshapes
 * between batches of different sizes does not reallocate.
 *
 * <p>Data and diff live on the host and, once a layer's device path asks, on a {@link Device};
 * each side is copied only when it is stale (Caffe's SyncedMemory). {@link #data()} and
 * {@link #diff()} return the host arrays, current, and make the host the only current copy.
 */
public final class Blob {
  /** Caffe's limit on the number of axes. */
  public static final int MAX_AXES = 32;

  private int[] shape = new int[0];
  private int count;
  private final SyncedMemory data = new SyncedMemory(this, "data");
  private final SyncedMemory diff = new SyncedMemory(this, "diff");
  private String name = "";

  public Blob(int... shape) {
    reshape(shape);
  }

  /** Changes the shape; keeps the values when the new count fits in the existing storage. */
  public void reshape(int... newShape) {
    if (newShape.length > MAX_AXES) {
      throw new IllegalArgumentException("blob has " + newShape.length + " axes; at most " + MAX_AXES);
    }
    long c = 1;
    for (int d : newShape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(newShape));
      }
      c *= d;
    }
    if (c > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("blob of shape " + Arrays.toString(newShape) + " is too large");
    }
    // Every layer reshapes its tops on every forward, as in Caffe: the same shape again changes
    // nothing and allocates nothing (a served batch-1 predict stays free of garbage). The count
    // is compared too: a new blob's empty shape has count 0, a scalar's (also no axes) count 1.
    if (c == count && Arrays.equals(shape, newShape)) {
      return;
    }
    shape = newShape.clone();
    count = (int) c;
    data.resize(count);
    diff.resize(count);
  }

  /** The name that errors about this blob use (the net sets its top names). */
  public String name() {
    return name.isEmpty() ? "(unnamed)" : name;
  }

  public Blob named(String blobName) {
    this.name = blobName;
    return this;
  }

  public void reshapeLike(Blob other) {
    reshape(other.shape);
  }

  public int[] shape() {
    return shape.clone();
  }

  /** The size of one axis; negative indices count from the end, as in Caffe. */
  public int shape(int axis) {
    return shape[canonicalAxis(axis)];
  }

  public int numAxes() {
    return shape.length;
  }

  public int count() {
    return count;
  }

  /** The product of the dimensions of axes [start, end). */
  public int count(int start, int end) {
    int c = 1;
    for (int i = start; i < end; i++) {
      c *= shape[i];
    }
    return c;
  }

  /** The product of the dimensions from {@code start} to the last axis. */
  public int count(int start) {
    return count(start, shape.length);
  }

  public int canonicalAxis(int axis) {
    if (axis < -shape.length || axis >= Math.max(shape.length, 1)) {
      throw new IllegalArgumentException(
          "axis " + axis + " out of range for a " + shape.length + "-D blob of shape " + shapeString());
    }
    return axis < 0 ? axis + shape.length : axis;
  }

  /** Legacy 4-D accessors: missing leading axes count as 1. */
  public int legacyShape(int index) {
    if (index >= shape.length || index < -shape.length) {
      return 1;
    }
    return shape(index);
  }

  public int offset(int n, int c, int h, int w) {
    return ((n * legacyShape(1) + c) * legacyShape(2) + h) * legacyShape(3) + w;
  }

  /** The values on the host; only the first {@link #count()} are meaningful. */
  public float[] data() {
    return data.host();
  }

  /**
   * The values on the host for reading only: unlike {@link #data()} it leaves a device copy
   * current, so nothing is uploaded again. Writing into the array is a bug.
   */
  public float[] dataReadOnly() {
    return data.hostReadOnly();
  }

  /** The gradient on the host; only the first {@link #count()} are meaningful. */
  public float[] diff() {
    return diff.host();
  }

  /** The values on {@code device}, for reading. */
  public DeviceBuffer deviceData(Device device) {
    return data.deviceReadOnly(device);
  }

  /** The values on {@code device}, to be written there. */
  public DeviceBuffer mutableDeviceData(Device device) {
    return data.device(device);
  }

  /** The gradient on {@code device}, for reading. */
  public DeviceBuffer deviceDiff(Device device) {
    return diff.deviceReadOnly(device);
  }

  /** The gradient on {@code device}, to be written there. */
  public DeviceBuffer mutableDeviceDiff(Device device) {
    return diff.device(device);
  }

  /** Frees the device copies (after bringing their values to the host). */
  public void releaseDevice() {
    data.release();
    diff.release();
  }

  public void zeroDiff() {
    zero(diff);
  }

  public void zeroData() {
    zero(data);
  }

  private void zero(SyncedMemory m) {
    // Zeroed where the values live, so a blob kept on the device is not copied back to be zeroed.
    if (m.onDevice()) {
      m.boundDevice().set(count, 0f, m.device(m.boundDevice()));
    } else {
      Arrays.fill(m.host(), 0, count, 0f);
    }
  }

  public void copyFrom(Blob source, boolean copyDiff, boolean reshape) {
    if (source.count != count || !Arrays.equals(source.shape, shape)) {
      if (!reshape) {
        throw new IllegalArgumentException(
            "cannot copy a blob of shape " + source.shapeString() + " into one of shape " + shapeString());
      }
      reshapeLike(source);
    }
    System.arraycopy(copyDiff ? source.diff() : source.data(), 0, copyDiff ? diff() : data(), 0, count);
  }

  public double sumsqDiff() {
    return sumsq(diff);
  }

  public double sumsqData() {
    return sumsq(data);
  }

  private double sumsq(SyncedMemory m) {
    if (m.onDevice()) {
      DeviceBuffer b = m.deviceReadOnly(m.boundDevice());
      return m.boundDevice().dot(count, b, b);
    }
    float[] v = m.hostReadOnly();
    double s = 0;
    for (int i = 0; i < count; i++) {
      s += (double) v[i] * v[i];
    }
    return s;
  }

  /** "64 30 (1920)", the shape string of Caffe's logs. */
  public String shapeString() {
    StringBuilder sb = new StringBuilder();
    for (int d : shape) {
      sb.append(d).append(' ');
    }
    return sb.append('(').append(count).append(')').toString();
  }

  /**
   * The shape a BlobProto describes: the legacy num/channels/height/width when any is set
   * (compared right-aligned, as Caffe does), else {@code shape}.
   */
  public static int[] shapeOf(BlobProto proto) {
    if (proto.hasNum() || proto.hasChannels() || proto.hasHeight() || proto.hasWidth()) {
      return new int[] {proto.getNum(), proto.getChannels(), proto.getHeight(), proto.getWidth()};
    }
    int[] s = new int[proto.getShape().getDimCount()];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.toIntExact(proto.getShape().getDim(i));
    }
    return s;
  }

  /** Whether this blob can take the values of {@code proto} (legacy 4-D shapes right-aligned). */
  public boolean accepts(BlobProto proto) {
    int[] other = shapeOf(proto);
    if (proto.hasNum() || proto.hasChannels() || proto.hasHeight() || proto.hasWidth()) {
      if (shape.length > 4) {
        return false;
      }
      for (int i = 0; i < 4; i++) {
        if (other[i] != legacyShape(i - 4)) {
          return false;
        }
      }
      return true;
    }
    return Arrays.equals(shape, other);
  }

  /** Copies values (and the gradient, when present) from a BlobProto, reshaping when asked. */
  public void fromProto(BlobProto proto, boolean reshape) {
    if (reshape) {
      reshape(shapeOf(proto));
    } else if (!accepts(proto)) {
      throw new IllegalArgumentException("shape mismatch: blob is " + shapeString()
          + ", proto is " + Arrays.toString(shapeOf(proto)));
    }
    float[] data = data();
    float[] diff = diff();
    if (proto.getDoubleDataCount() > 0) {
      checkCount(proto.getDoubleDataCount(), "double_data");
      for (int i = 0; i < count; i++) {
        data[i] = (float) proto.getDoubleData(i);
      }
    } else if (proto.getDataCount() > 0 || count == 0) {
      checkCount(proto.getDataCount(), "data");
      for (int i = 0; i < count; i++) {
        data[i] = proto.getData(i);
      }
    }
    if (proto.getDoubleDiffCount() > 0) {
      checkCount(proto.getDoubleDiffCount(), "double_diff");
      for (int i = 0; i < count; i++) {
        diff[i] = (float) proto.getDoubleDiff(i);
      }
    } else if (proto.getDiffCount() > 0) {
      checkCount(proto.getDiffCount(), "diff");
      for (int i = 0; i < count; i++) {
        diff[i] = proto.getDiff(i);
      }
    }
  }

  private void checkCount(int n, String field) {
    if (n != count) {
      throw new IllegalArgumentException(
          "BlobProto has " + n + " values in " + field + " for a blob of shape " + shapeString());
    }
  }

  /** Writes shape and data (and diff when asked), as Caffe's Blob::ToProto does. */
  public BlobProto toProto(boolean writeDiff) {
    BlobShape.Builder s = BlobShape.newBuilder();
    for (int d : shape) {
      s.addDim(d);
    }
    BlobProto.Builder b = BlobProto.newBuilder().setShape(s);
    float[] data = this.data.hostReadOnly();
    for (int i = 0; i < count; i++) {
      b.addData(data[i]);
    }
    if (writeDiff) {
      float[] diff = this.diff.hostReadOnly();
      for (int i = 0; i < count; i++) {
        b.addDiff(diff[i]);
      }
    }
    return b.build();
  }

  @Override
  public String toString() {
    return "Blob(" + shapeString() + ")";
  }
}
