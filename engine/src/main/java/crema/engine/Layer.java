package crema.engine;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.ParamSpec;
import caffe.Caffe.Phase;
import crema.engine.math.Backend;
import crema.engine.math.Device;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One layer of a net: Caffe's Layer. {@link #setUp} checks the blob counts, runs the layer's own
 * setup and shapes the tops; {@link #forward} returns the layer's weighted loss; {@link #backward}
 * fills bottom gradients and accumulates parameter gradients.
 *
 * <p>Loss layers read their loss weight from the first element of their top's gradient, which the
 * net sets before every backward pass, exactly as Caffe does.
 *
 * <p>On a {@link Device}, layers that have a device path ({@link #forwardDevice}) run there; the
 * others run their CPU path on the host copies of their blobs, which the blobs synchronise on
 * demand (Caffe's Forward_gpu defaulting to Forward_cpu).
 */
public abstract class Layer {
  private final LayerParameter param;
  /** Learnable (or stored) parameter blobs, in Caffe's order: weights, bias, … */
  private final List<Blob> blobs = new ArrayList<>();
  private Backend math = Backend.cpu();
  /** The device this layer runs on; null: the CPU. */
  private Device device;
  /** The generator this layer draws from: its net's (see {@link Rng}); null until set or drawn. */
  private Rng rng;
  private float[] lossWeights = new float[0];
  private boolean[] paramPropagateDown = new boolean[0];

  protected Layer(LayerParameter param) {
    this.param = param;
  }

  public final LayerParameter param() {
    return param;
  }

  public final String name() {
    return param.getName();
  }

  public String type() {
    return param.getType();
  }

  public final Phase phase() {
    return param.getPhase();
  }

  public final List<Blob> blobs() {
    return blobs;
  }

  /** Makes this layer's CPU path compute with {@code backend}. */
  public void setBackend(Backend backend) {
    this.math = backend;
  }

  /** The math this layer's CPU path computes with (BLAS by default). */
  protected final Backend math() {
    return math;
  }

  /** Runs this layer's device path on {@code device} from now on (null: the CPU). */
  public void setDevice(Device device) {
    this.device = device;
  }

  public final Device device() {
    return device;
  }

  /**
   * Makes this layer draw its random numbers (fillers, dropout masks, shuffles) from {@code rng}.
   * A {@link Net} gives every layer its own generator before set-up, so that a solver's seed
   * reproduces its run whatever other nets the JVM builds; a layer used on its own draws from a
   * freshly seeded generator unless given one.
   */
  public void setRng(Rng rng) {
    this.rng = rng;
  }

  /** The generator this layer draws from (see {@link #setRng}). */
  protected final Rng rng() {
    if (rng == null) {
      rng = new Rng();
    }
    return rng;
  }

  /** Whether this layer computes on its device, rather than on the host copies of its blobs. */
  public boolean hasDevicePath() {
    return false;
  }

  /** Checks blob counts, sets the layer up, shapes its tops and records its loss weights. */
  public final void setUp(List<Blob> bottom, List<Blob> top) {
    checkBlobCounts(bottom, top);
    layerSetUp(bottom, top);
    reshape(bottom, top);
    lossWeights = new float[top.size()];
    int n = param.getLossWeightCount();
    if (n > 0 && n != top.size()) {
      throw new NetException(this, "loss_weight must be unspecified or given once per top blob ("
          + top.size() + " tops, " + n + " loss_weight values)");
    }
    for (int i = 0; i < top.size(); i++) {
      lossWeights[i] = n > 0 ? param.getLossWeight(i) : (i == 0 && isLoss() ? 1f : 0f);
    }
  }

  /** One-time setup: read parameters, create and fill parameter blobs. */
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {}

  /** Shapes the tops (and internal buffers) from the bottoms' shapes. */
  public abstract void reshape(List<Blob> bottom, List<Blob> top);

  /** Reshapes, computes the tops and returns Σ loss_weight · top. */
  public final double forward(List<Blob> bottom, List<Blob> top) {
    reshape(bottom, top);
    if (device != null && hasDevicePath()) {
      forwardDevice(bottom, top);
    } else {
      forwardCpu(bottom, top);
    }
    double loss = 0;
    for (int i = 0; i < top.size(); i++) {
      if (lossWeights[i] != 0) {
        Blob t = top.get(i);
        float[] d = t.data();
        for (int j = 0; j < t.count(); j++) {
          loss += lossWeights[i] * d[j];
        }
      }
    }
    return loss;
  }

  public final void backward(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    if (device != null && hasDevicePath()) {
      backwardDevice(top, propagateDown, bottom);
    } else {
      backwardCpu(top, propagateDown, bottom);
    }
  }

  /** The device path of forward; layers that return true from {@link #hasDevicePath} override. */
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    forwardCpu(bottom, top);
  }

  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    backwardCpu(top, propagateDown, bottom);
  }

  protected abstract void forwardCpu(List<Blob> bottom, List<Blob> top);

  protected abstract void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom);

  public final float lossWeight(int topIndex) {
    return topIndex < lossWeights.length ? lossWeights[topIndex] : 0f;
  }

  /** Loss layers get loss_weight 1 on their first top by default. */
  public boolean isLoss() {
    return false;
  }

  /**
   * The learning-rate and decay multipliers of parameter blob {@code i}: the layer's {@code param}
   * entry, or the defaults (1, 1). Layers whose blobs are statistics override this with 0.
   */
  public ParamSpec paramSpec(int i) {
    return i < param.getParamCount() ? param.getParam(i) : ParamSpec.getDefaultInstance();
  }

  /** Whether the net may force a gradient into bottom {@code i} (labels: no). */
  public boolean allowForceBackward(int bottomIndex) {
    return true;
  }

  /** Whether the gradient of parameter blob {@code i} is needed (lr_mult ≠ 0). */
  public final boolean paramPropagateDown(int i) {
    return i < paramPropagateDown.length && paramPropagateDown[i];
  }

  public final void setParamPropagateDown(int i, boolean value) {
    if (paramPropagateDown.length <= i) {
      paramPropagateDown = Arrays.copyOf(paramPropagateDown, i + 1);
    }
    paramPropagateDown[i] = value;
  }

  // Blob-count constraints, as Caffe declares them; -1 means unconstrained.
  protected int exactBottoms() { return -1; }
  protected int minBottoms() { return -1; }
  protected int maxBottoms() { return -1; }
  protected int exactTops() { return -1; }
  protected int minTops() { return -1; }
  protected int maxTops() { return -1; }
  protected boolean equalBottomTopCounts() { return false; }

  private void checkBlobCounts(List<Blob> bottom, List<Blob> top) {
    check(exactBottoms() < 0 || bottom.size() == exactBottoms(), "takes " + exactBottoms() + " bottom blob(s)", bottom.size());
    check(minBottoms() < 0 || bottom.size() >= minBottoms(), "takes at least " + minBottoms() + " bottom blob(s)", bottom.size());
    check(maxBottoms() < 0 || bottom.size() <= maxBottoms(), "takes at most " + maxBottoms() + " bottom blob(s)", bottom.size());
    check(exactTops() < 0 || top.size() == exactTops(), "produces " + exactTops() + " top blob(s)", top.size());
    check(minTops() < 0 || top.size() >= minTops(), "produces at least " + minTops() + " top blob(s)", top.size());
    check(maxTops() < 0 || top.size() <= maxTops(), "produces at most " + maxTops() + " top blob(s)", top.size());
    if (equalBottomTopCounts() && bottom.size() != top.size()) {
      throw new NetException(this, "needs as many tops as bottoms (" + bottom.size() + " bottoms, "
          + top.size() + " tops)");
    }
  }

  private void check(boolean ok, String what, int got) {
    if (!ok) {
      throw new NetException(this, type() + " " + what + ", got " + got);
    }
  }

  /** Releases what the layer holds open (data sources, prefetch threads). */
  public void close() {}

  @Override
  public String toString() {
    return name() + " (" + type() + ")";
  }
}
