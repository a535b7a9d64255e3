package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.LayerType;
import crema.engine.math.Kernel;
import java.util.List;
import java.util.SplittableRandom;

/** Inverted dropout: in TRAIN each value is kept with probability 1 − p and scaled by 1/(1 − p). */
@LayerType("Dropout")
final class DropoutLayer extends NeuronLayer {
  /**
   * gpu/src/main/cuda/dropout_layer.cu: unit i is kept when a counter-based hash of (seed, i) is
   * at least ratio, so the mask needs no generator state on the device and does not depend on the
   * launch shape; mask[i] is 1 or 0 and y = x·mask/(1 − ratio).
   */
  static final Kernel FORWARD = Kernel.of("dropout_layer",
      "crema_dropout_forward(int n, float ratio, unsigned int seed, const float* x, float* mask,"
          + " float* y)",
      (i, a) -> {
        float ratio = a.real(1);
        float u = (hash(a.integer(2) ^ hash(i)) >>> 8) * (1.0f / 16777216.0f);
        float keep = u >= ratio ? 1f : 0f;
        a.buffer(4)[i] = keep;
        a.buffer(5)[i] = a.buffer(3)[i] * keep / (1f - ratio);
      });
  static final Kernel BACKWARD = Kernel.of("dropout_layer",
      "crema_dropout_backward(int n, float ratio, const float* mask, const float* dy, float* dx)",
      (i, a) -> a.buffer(4)[i] = a.buffer(3)[i] * a.buffer(2)[i] / (1f - a.real(1)));

  /** The kernel's crema_hash in Java's 32-bit arithmetic (>>> is the unsigned shift). */
  static int hash(int x) {
    x ^= x >>> 16;
    x *= 0x7feb352d;
    x ^= x >>> 15;
    x *= 0x846ca68b;
    x ^= x >>> 16;
    return x;
  }

  private final float ratio;
  private final float scale;
  /** Caffe's rule: keep a unit when a uniform 31-bit draw is at least ratio · 2³¹. */
  private final long threshold;
  /** Per unit: scale where kept, 0 where dropped. */
  private float[] mask = new float[0];

  DropoutLayer(LayerParameter param) {
    super(param);
    ratio = param().getDropoutParam().getDropoutRatio();
    if (ratio < 0 || ratio >= 1) {
      throw new IllegalArgumentException("dropout_ratio must be in [0, 1), got " + ratio);
    }
    scale = 1f / (1f - ratio);
    threshold = (long) (ratio * (double) (1L << 31));
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] in = bottom.get(0).data();
    float[] out = top.get(0).data();
    int n = bottom.get(0).count();
    if (phase() == Phase.TRAIN) {
      if (mask.length < n) {
        mask = new float[n];
      }
      // One draw from the net's generator seeds this pass's mask, so a seed still reproduces a
      // run while the per-unit draws stay cheap.
      SplittableRandom r = new SplittableRandom(rng().nextLong());
      for (int i = 0; i < n; i++) {
        long keep = 1 - (((r.nextInt() >>> 1) - threshold) >>> 63);
        mask[i] = keep * scale;
        out[i] = in[i] * mask[i];
      }
    } else if (in != out) {
      System.arraycopy(in, 0, out, 0, n);
    }
  }

  /** The device() path's mask: 1 kept, 0 dropped. */
  private final Blob deviceMask = new Blob(0);

  @Override
  public boolean hasDevicePath() {
    return true;
  }

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    int n = bottom.get(0).count();
    if (phase() == Phase.TRAIN) {
      deviceMask.reshape(n);
      // One draw from the net's generator per pass, as on the CPU, seeds the device()'s hash.
      device().launch(FORWARD, n, n, ratio, (int) rng().nextLong(), bottom.get(0).deviceData(device()),
          deviceMask.mutableDeviceData(device()), top.get(0).mutableDeviceData(device()));
    } else if (bottom.get(0) != top.get(0)) {
      device().copy(n, bottom.get(0).deviceData(device()), top.get(0).mutableDeviceData(device()));
    }
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    int n = bottom.get(0).count();
    if (phase() == Phase.TRAIN) {
      device().launch(BACKWARD, n, n, ratio, deviceMask.deviceData(device()), top.get(0).deviceDiff(device()),
          bottom.get(0).mutableDeviceDiff(device()));
    } else if (bottom.get(0) != top.get(0)) {
      device().copy(n, top.get(0).deviceDiff(device()), bottom.get(0).mutableDeviceDiff(device()));
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (!propagateDown[0]) {
      return;
    }
    float[] topDiff = top.get(0).diff();
    float[] bottomDiff = bottom.get(0).diff();
    int n = bottom.get(0).count();
    if (phase() == Phase.TRAIN) {
      for (int i = 0; i < n; i++) {
        bottomDiff[i] = topDiff[i] * mask[i];
      }
    } else if (topDiff != bottomDiff) {
      System.arraycopy(topDiff, 0, bottomDiff, 0, n);
    }
  }
}
