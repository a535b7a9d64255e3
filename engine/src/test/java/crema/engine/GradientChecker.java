package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Caffe's GradientChecker: central differences with step h, compared with the analytic gradient
 * within threshold · max(|analytic|, |numeric|, 1); inputs within kinkRange of kink are skipped.
 * The layer gets a generator seeded alike before every forward, so stochastic layers (dropout)
 * see the same randomness.
 *
 * <p>Every check runs on each backend present: the CPU, then, for layers with a device path, the
 * {@link HostDevice} (and so the engine's device code), on the same blobs.
 */
public final class GradientChecker {
  private final double step;
  private final double threshold;
  private final long seed;
  private final double kink;
  private final double kinkRange;
  private int checked;

  public GradientChecker(double step, double threshold) {
    this(step, threshold, 1701, 0, -1);
  }

  public GradientChecker(double step, double threshold, long seed, double kink, double kinkRange) {
    this.step = step;
    this.threshold = threshold;
    this.seed = seed;
    this.kink = kink;
    this.kinkRange = kinkRange;
  }

  /** How many (input, output) pairs were compared; a test asserts it is not zero. */
  public int checked() {
    return checked;
  }

  /** Every top element separately, against every bottom (checkBottom −1: and every parameter). */
  public void checkExhaustive(Layer layer, List<Blob> bottom, List<Blob> top, int checkBottom) {
    layer.setUp(bottom, top);
    if (top.isEmpty()) {
      throw new IllegalArgumentException("exhaustive check needs a top");
    }
    onEachBackend(layer, () -> {
      for (int t = 0; t < top.size(); t++) {
        for (int k = 0; k < top.get(t).count(); k++) {
          checkSingle(layer, bottom, top, checkBottom, t, k, false);
        }
      }
    });
  }

  /** Runs {@code check} on the CPU, then on the host device when the layer has a device path. */
  private static void onEachBackend(Layer layer, Runnable check) {
    check.run();
    if (layer.hasDevicePath()) {
      layer.setDevice(new HostDevice());
      try {
        check.run();
      } finally {
        layer.setDevice(null);
      }
    }
  }

  /** The objective ½·Σ top² over all tops at once (Caffe's CheckGradient). */
  public void check(Layer layer, List<Blob> bottom, List<Blob> top, int checkBottom) {
    layer.setUp(bottom, top);
    onEachBackend(layer, () -> checkSingle(layer, bottom, top, checkBottom, -1, -1, false));
  }

  /** For element-wise layers: each top element against the same bottom element only. */
  public void checkEltwise(Layer layer, List<Blob> bottom, List<Blob> top) {
    layer.setUp(bottom, top);
    onEachBackend(layer, () -> {
      for (int t = 0; t < top.size(); t++) {
        for (int k = 0; k < top.get(t).count(); k++) {
          checkSingle(layer, bottom, top, -1, t, k, true);
        }
      }
    });
  }

  private void checkSingle(Layer layer, List<Blob> bottom, List<Blob> top, int checkBottom,
      int topId, int topDataId, boolean elementWise) {
    List<Blob> blobs = new ArrayList<>();
    boolean[] propagateDown = new boolean[bottom.size()];
    if (checkBottom < 0) {
      for (Blob p : layer.blobs()) {
        p.zeroDiff();
        blobs.add(p);
      }
      for (int i = 0; i < layer.blobs().size(); i++) {
        layer.setParamPropagateDown(i, true);
      }
      if (checkBottom == -1) {
        blobs.addAll(bottom);
        Arrays.fill(propagateDown, true);
      }
    } else {
      blobs.add(bottom.get(checkBottom));
      propagateDown[checkBottom] = true;
    }
    layer.setRng(new Rng(seed));
    layer.forward(bottom, top);
    objective(top, topId, topDataId);
    layer.backward(top, propagateDown, bottom);
    List<float[]> analytic = new ArrayList<>();
    for (Blob b : blobs) {
      analytic.add(Arrays.copyOf(b.diff(), b.count()));
    }
    for (int bi = 0; bi < blobs.size(); bi++) {
      Blob b = blobs.get(bi);
      for (int f = 0; f < b.count(); f++) {
        double estimated = 0;
        if (!elementWise || f == topDataId) {
          float original = b.data()[f];
          b.data()[f] = (float) (original + step);
          layer.setRng(new Rng(seed));
          layer.forward(bottom, top);
          double positive = objective(top, topId, topDataId);
          b.data()[f] = (float) (original - step);
          layer.setRng(new Rng(seed));
          layer.forward(bottom, top);
          double negative = objective(top, topId, topDataId);
          b.data()[f] = original;
          estimated = (positive - negative) / step / 2;
        }
        double computed = analytic.get(bi)[f];
        double feature = b.data()[f];
        if (kink - kinkRange > Math.abs(feature) || Math.abs(feature) > kink + kinkRange) {
          double scale = Math.max(Math.max(Math.abs(computed), Math.abs(estimated)), 1.0);
          assertEquals(estimated, computed, threshold * scale, layer + ": blob " + bi + " element " + f
              + " (top " + topId + "[" + topDataId + "])");
          checked++;
        }
      }
    }
  }

  /** Caffe's GetObjAndGradient: sets the top gradient of the objective and returns it. */
  private static double objective(List<Blob> top, int topId, int topDataId) {
    double loss = 0;
    if (topId < 0) {
      for (Blob t : top) {
        for (int i = 0; i < t.count(); i++) {
          loss += (double) t.data()[i] * t.data()[i];
          t.diff()[i] = t.data()[i];
        }
      }
      return loss / 2;
    }
    for (Blob t : top) {
      t.zeroDiff();
    }
    float weight = 2;
    top.get(topId).diff()[topDataId] = weight;
    return top.get(topId).data()[topDataId] * weight;
  }
}
