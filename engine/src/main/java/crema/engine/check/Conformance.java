package crema.engine.check;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.SolverState;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerRegistry;
import crema.engine.Rng;
import crema.engine.Solver;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.engine.math.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The backend conformance suite: every layer type of the engine run forward and backward on the
 * CPU and on a {@link Device} from the same inputs, parameters and top gradients, compared element
 * by element; then each of Caffe's six solvers run for 5 iterations on the device from the
 * otto-mini fixture's initial weights, compared with the weights and history the real Caffe 1.0
 * wrote. Runs from the CLI ({@code crema conformance -gpu 0}) on a machine with only a driver,
 * and from the tests on every backend present.
 *
 * <p>Agreement is |device − cpu| ≤ tolerance · max(|cpu|, |device|, 1): relative for values of
 * magnitude at least 1, absolute below, as Caffe's GradientChecker compares.
 */
public final class Conformance {
  /** The layer tolerance the GPU backend promises. */
  public static final double LAYER_TOLERANCE = 1e-5;
  /** The solver tolerance of the fixture checks, element-wise (see {@link #relativeError}). */
  public static final double SOLVER_TOLERANCE = 1e-5;
  /**
   * RMSProp's weight tolerance, element-wise: after 5 steps the largest difference measured is
   * 2.3e-5 with OpenBLAS's own kernel for this CPU and 5.9e-5 with OPENBLAS_CORETYPE=Haswell (both
   * in ip1's weights at iteration 2), from float rounding rather than any difference in the order
   * of operations. The history update, the square root, δ, the division and the step are those of
   * Caffe's {@code rmsprop_solver.cpp} (computing the history with a fused multiply-add, as an
   * FMA-using BLAS axpby would, changes nothing). RMSProp divides each gradient by its own running
   * magnitude, so every step is about base_lr/√(1 − rms_decay) whatever the gradient's size (0.07
   * here, as large as the weights). Where a weight of about 0.07 takes such a step and lands near
   * 1e-3, the subtraction cancels: the result keeps the absolute rounding of its operands (1 ulp of
   * 0.07 is 7.5e-9), which the measure divides by max(|w|, 1e-3). The largest differences seen are
   * 1 to 8 such ulps (7.5e-9 to 6e-8 absolute), carried by gradients whose last bits differ with
   * the summation order of the matrix products — which the BLAS kernel chooses, so the bound
   * leaves room for kernels not measured here.
   */
  public static final double RMSPROP_WEIGHT_TOLERANCE = 1e-4;

  /** One check's outcome; {@code worst} is the largest scaled difference seen. */
  public record Result(String check, boolean passed, double worst, String detail) {
    @Override
    public String toString() {
      return String.format("%-4s %-52s worst %.2e%s", passed ? "ok" : "FAIL", check, worst,
          detail.isEmpty() ? "" : "  " + detail);
    }
  }

  /** A layer case: its prototxt and its bottoms' shapes; label bottoms get class indices. */
  private record LayerCase(String name, String proto, int[][] shapes, int labelBottom, int classes,
      boolean positive) {
    static LayerCase of(String name, String proto, int[]... shapes) {
      return new LayerCase(name, proto, shapes, -1, 0, false);
    }

    LayerCase labels(int bottom, int classes) {
      return new LayerCase(name, proto, shapes, bottom, classes, positive);
    }

    LayerCase positiveInput() {
      return new LayerCase(name, proto, shapes, labelBottom, classes, true);
    }
  }

  private static final String W = " weight_filler { type: 'gaussian' std: 0.5 }"
      + " bias_filler { type: 'gaussian' std: 0.5 }";

  private static List<LayerCase> layerCases() {
    int[] nc = {8, 10};
    int[] nchw = {2, 3, 4, 5};
    return List.of(
        LayerCase.of("InnerProduct", "type: 'InnerProduct' inner_product_param { num_output: 30" + W + " }", new int[] {64, 93}),
        LayerCase.of("InnerProduct transpose", "type: 'InnerProduct' inner_product_param { num_output: 9 transpose: true" + W + " }", new int[] {16, 30}),
        LayerCase.of("InnerProduct batch 1 (gemv)", "type: 'InnerProduct' inner_product_param { num_output: 12" + W + " }", new int[] {1, 40}),
        LayerCase.of("InnerProduct wide", "type: 'InnerProduct' inner_product_param { num_output: 1024" + W + " }", new int[] {32, 1024}),
        LayerCase.of("ReLU", "type: 'ReLU'", nchw),
        LayerCase.of("ReLU leaky", "type: 'ReLU' relu_param { negative_slope: 0.1 }", nchw),
        LayerCase.of("Sigmoid", "type: 'Sigmoid'", nchw),
        LayerCase.of("TanH", "type: 'TanH'", nchw),
        LayerCase.of("Dropout TEST", "type: 'Dropout' phase: TEST dropout_param { dropout_ratio: 0.3 }", nchw),
        LayerCase.of("Softmax", "type: 'Softmax'", nc),
        LayerCase.of("Softmax inner > 1", "type: 'Softmax'", nchw),
        LayerCase.of("SoftmaxWithLoss", "type: 'SoftmaxWithLoss'", new int[] {64, 9}, new int[] {64}).labels(1, 9),
        LayerCase.of("SoftmaxWithLoss ignore_label", "type: 'SoftmaxWithLoss' loss_param { ignore_label: 2 }", new int[] {32, 5}, new int[] {32}).labels(1, 5),
        LayerCase.of("SoftmaxWithLoss 2 tops", "type: 'SoftmaxWithLoss' top: 'l' top: 'p'", new int[] {16, 4}, new int[] {16}).labels(1, 4),
        LayerCase.of("SoftmaxWithLoss inner > 1", "type: 'SoftmaxWithLoss'", new int[] {2, 3, 4}, new int[] {2, 4}).labels(1, 3),
        LayerCase.of("AbsVal", "type: 'AbsVal'", nchw),
        LayerCase.of("BNLL", "type: 'BNLL'", nchw),
        LayerCase.of("ELU", "type: 'ELU'", nchw),
        LayerCase.of("Exp", "type: 'Exp'", nchw),
        LayerCase.of("Log", "type: 'Log'", nchw).positiveInput(),
        LayerCase.of("Power", "type: 'Power' power_param { power: 2 scale: 0.5 shift: 1 }", nchw),
        LayerCase.of("Threshold", "type: 'Threshold' threshold_param { threshold: 0.2 }", nchw),
        LayerCase.of("Clip", "type: 'Clip' clip_param { min: -0.5 max: 0.5 }", nchw),
        LayerCase.of("Swish", "type: 'Swish'", nchw),
        LayerCase.of("PReLU", "type: 'PReLU'", nchw),
        LayerCase.of("BatchNorm", "type: 'BatchNorm'", nchw),
        LayerCase.of("Scale", "type: 'Scale' scale_param { bias_term: true }", nchw),
        LayerCase.of("Bias", "type: 'Bias'", nchw, new int[] {3}),
        LayerCase.of("Embed", "type: 'Embed' embed_param { num_output: 6 input_dim: 10" + W + " }", new int[] {12}).labels(0, 10),
        LayerCase.of("Eltwise SUM", "type: 'Eltwise' eltwise_param { operation: SUM coeff: 1 coeff: -0.5 }", nchw, nchw),
        LayerCase.of("Eltwise PROD", "type: 'Eltwise' eltwise_param { operation: PROD }", nchw, nchw),
        LayerCase.of("Eltwise MAX", "type: 'Eltwise' eltwise_param { operation: MAX }", nchw, nchw),
        LayerCase.of("Concat", "type: 'Concat'", nchw, nchw),
        LayerCase.of("Slice", "type: 'Slice' top: 'a' top: 'b' slice_param { slice_point: 1 }", nchw),
        LayerCase.of("Split", "type: 'Split' top: 'a' top: 'b'", nchw),
        LayerCase.of("Flatten", "type: 'Flatten'", nchw),
        LayerCase.of("Reshape", "type: 'Reshape' reshape_param { shape { dim: 0 dim: -1 } }", nchw),
        LayerCase.of("Tile", "type: 'Tile' tile_param { axis: 1 tiles: 2 }", nchw),
        LayerCase.of("Reduction", "type: 'Reduction' reduction_param { operation: SUMSQ axis: 1 }", nchw),
        LayerCase.of("EuclideanLoss", "type: 'EuclideanLoss'", nc, nc),
        LayerCase.of("SigmoidCrossEntropyLoss", "type: 'SigmoidCrossEntropyLoss'", nc, nc),
        LayerCase.of("HingeLoss", "type: 'HingeLoss'", nc, new int[] {8}).labels(1, 10),
        LayerCase.of("MultinomialLogisticLoss", "type: 'MultinomialLogisticLoss'", nc, new int[] {8}).labels(1, 10).positiveInput(),
        LayerCase.of("Accuracy", "type: 'Accuracy' accuracy_param { top_k: 2 }", nc, new int[] {8}).labels(1, 10),
        LayerCase.of("ArgMax", "type: 'ArgMax'", nc),
        LayerCase.of("Silence", "type: 'Silence'", nchw));
  }

  private final Device device;
  private final List<Result> results = new ArrayList<>();

  public Conformance(Device device) {
    this.device = device;
  }

  public List<Result> results() {
    return results;
  }

  public boolean passed() {
    return !results.isEmpty() && results.stream().allMatch(Result::passed);
  }

  /** Every layer case, and dropout's TRAIN pass, on the device against the CPU. */
  public Conformance layers() {
    for (LayerCase c : layerCases()) {
      try {
        results.add(compareLayer(c));
      } catch (RuntimeException e) {
        results.add(new Result("layer " + c.name, false, Double.NaN, e.toString()));
      }
    }
    results.add(dropoutTrain());
    return this;
  }

  private Layer build(LayerCase c) {
    LayerParameter.Builder b = LayerParameter.newBuilder();
    Prototxt.parse(c.proto, "conformance case " + c.name, b);
    b.setName(c.name.replace(' ', '_'));
    if (!b.hasPhase()) {
      b.setPhase(Phase.TRAIN);
    }
    return LayerRegistry.create(b.build());
  }

  private List<Blob> bottoms(LayerCase c) {
    List<Blob> out = new ArrayList<>();
    Random r = new Random(1701);
    for (int i = 0; i < c.shapes.length; i++) {
      Blob b = new Blob(c.shapes[i]).named("bottom" + i);
      float[] d = b.data();
      for (int k = 0; k < b.count(); k++) {
        if (i == c.labelBottom) {
          d[k] = r.nextInt(c.classes);
        } else if (c.positive) {
          d[k] = (float) (0.05 + r.nextDouble());
        } else {
          d[k] = (float) r.nextGaussian();
        }
      }
      out.add(b);
    }
    return out;
  }

  private static List<Blob> tops(Layer l) {
    int n = Math.max(l.param().getTopCount(), 0);
    if (n == 0) {
      n = "Silence".equals(l.type()) ? 0 : 1;
    }
    List<Blob> t = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      t.add(new Blob().named("top" + i));
    }
    return t;
  }

  private Result compareLayer(LayerCase c) {
    Layer cpu = build(c);
    Layer dev = build(c);
    List<Blob> cb = bottoms(c);
    List<Blob> db = bottoms(c);
    List<Blob> ct = tops(cpu);
    List<Blob> dt = tops(dev);
    cpu.setUp(cb, ct);
    dev.setUp(db, dt);
    for (int i = 0; i < cpu.blobs().size(); i++) {
      dev.blobs().get(i).copyFrom(cpu.blobs().get(i), false, true);
      cpu.setParamPropagateDown(i, true);
      dev.setParamPropagateDown(i, true);
    }
    dev.setDevice(device);
    // The same seed for both: dropout draws the same mask on the CPU and on the device.
    cpu.setRng(new Rng(1701));
    cpu.forward(cb, ct);
    dev.setRng(new Rng(1701));
    dev.forward(db, dt);
    Worst w = new Worst();
    for (int i = 0; i < ct.size(); i++) {
      w.compare("top " + i, ct.get(i).data(), dt.get(i).data(), ct.get(i).count());
    }
    boolean backward = !"Accuracy".equals(c.name) && !"ArgMax".equals(c.name);
    if (backward) {
      for (int i = 0; i < ct.size(); i++) {
        for (List<Blob> tops : List.of(ct, dt)) {
          float[] g = tops.get(i).diff();
          for (int k = 0; k < tops.get(i).count(); k++) {
            // A loss layer reads its weight from diff[0]; other layers get a varied gradient.
            g[k] = cpu.lossWeight(i) != 0 ? cpu.lossWeight(i) : (float) Math.sin(0.7 * k + i);
          }
        }
      }
      for (Blob p : cpu.blobs()) {
        p.zeroDiff();
      }
      for (Blob p : dev.blobs()) {
        p.zeroDiff();
      }
      boolean[] down = new boolean[cb.size()];
      for (int i = 0; i < down.length; i++) {
        down[i] = i != c.labelBottom && cpu.allowForceBackward(i);
      }
      cpu.backward(ct, down, cb);
      dev.backward(dt, down, db);
      for (int i = 0; i < cb.size(); i++) {
        if (down[i]) {
          w.compare("bottom " + i + " diff", cb.get(i).diff(), db.get(i).diff(), cb.get(i).count());
        }
      }
      for (int i = 0; i < cpu.blobs().size(); i++) {
        w.compare("param " + i + " diff", cpu.blobs().get(i).diff(), dev.blobs().get(i).diff(),
            cpu.blobs().get(i).count());
      }
    }
    String path = dev.hasDevicePath() ? "device kernels" : "host fallback";
    return new Result("layer " + c.name + " (" + path + ")", w.worst <= LAYER_TOLERANCE && w.compared > 0,
        w.worst, w.compared == 0 ? "nothing compared" : w.where);
  }

  /**
   * Dropout in TRAIN draws its mask from the device's own generator, so it cannot equal the CPU's:
   * every output is 0 or x/(1 − p), the dropped share is within 5σ of p, and backward passes the
   * gradient through exactly the units forward kept.
   */
  private Result dropoutTrain() {
    float ratio = 0.3f;
    LayerCase c = LayerCase.of("Dropout TRAIN", "type: 'Dropout' dropout_param { dropout_ratio: 0.3 }",
        new int[] {64, 1024});
    Layer dev = build(c);
    List<Blob> b = bottoms(c);
    List<Blob> t = tops(dev);
    dev.setUp(b, t);
    dev.setDevice(device);
    dev.forward(b, t);
    float[] x = b.get(0).data();
    float[] y = t.get(0).data();
    int n = b.get(0).count();
    int dropped = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
      if (y[i] == 0f) {
        dropped++;
      } else {
        worst = Math.max(worst, Math.abs(y[i] - x[i] / (1 - ratio)) / Math.max(1, Math.abs(y[i])));
      }
    }
    float[] dy = t.get(0).diff();
    for (int i = 0; i < n; i++) {
      dy[i] = (float) Math.cos(i);
    }
    dev.backward(t, new boolean[] {true}, b);
    float[] dx = b.get(0).diff();
    for (int i = 0; i < n; i++) {
      float expected = y[i] == 0f ? 0f : dy[i] / (1 - ratio);
      worst = Math.max(worst, Math.abs(dx[i] - expected) / Math.max(1, Math.abs(expected)));
    }
    double sigma = Math.sqrt(n * ratio * (1 - ratio));
    boolean rateOk = Math.abs(dropped - n * ratio) <= 5 * sigma;
    return new Result("layer Dropout TRAIN (device RNG)", rateOk && worst <= LAYER_TOLERANCE, worst,
        String.format("dropped %.4f of %d (p = %.1f)", dropped / (double) n, n, ratio));
  }

  /**
   * Caffe's six solvers on the device, 5 iterations each from the fixture's initial weights,
   * against the weights and history Caffe wrote after every iteration.
   */
  public Conformance solvers(Path ottoMini, Path scratch) {
    for (String s : List.of("sgd", "nesterov", "adagrad", "rmsprop", "adadelta", "adam")) {
      try {
        results.add(solver(ottoMini, scratch, s));
      } catch (RuntimeException | IOException e) {
        results.add(new Result("solver " + s + " (otto-mini, 5 iterations)", false, Double.NaN, e.toString()));
      }
    }
    return this;
  }

  /**
   * The element-wise tolerance of a solver's weights against Caffe's: {@link #SOLVER_TOLERANCE},
   * except RMSProp's ({@link #RMSPROP_WEIGHT_TOLERANCE}, and why).
   */
  public static double weightTolerance(String solver) {
    return solver.equalsIgnoreCase("rmsprop") ? RMSPROP_WEIGHT_TOLERANCE : SOLVER_TOLERANCE;
  }

  private Result solver(Path root, Path scratch, String name) throws IOException {
    Path out = Files.createDirectories(scratch.resolve("conformance-" + name));
    SolverParameter sp = Prototxt.readSolver(root.resolve("exact/" + name + "_solver.prototxt"));
    NetParameter nb = fixtureNet(root, sp.getNet());
    sp = sp.toBuilder().clearNet().setNetParam(nb).setSnapshotPrefix(out.resolve("otto").toString())
        .setDisplay(0).build();
    Device previous = Device.current();
    Device.use(device);
    try (Solver s = Solver.create(sp)) {
      s.copyWeightsFrom(List.of(root.resolve("exact/init.caffemodel")));
      s.solve(null);
    } finally {
      Device.use(previous);
    }
    double worst = 0;
    String where = "";
    double weightTolerance = weightTolerance(name);
    for (int k = 1; k <= 5; k++) {
      NetParameter caffe = BinaryProto.readNet(root.resolve("exact/" + name + "/otto_iter_" + k + ".caffemodel"));
      NetParameter mine = BinaryProto.readNet(out.resolve("otto_iter_" + k + ".caffemodel"));
      for (LayerParameter e : caffe.getLayerList()) {
        for (int i = 0; i < e.getBlobsCount(); i++) {
          LayerParameter a = mine.getLayerList().stream().filter(l -> l.getName().equals(e.getName()))
              .findFirst().orElseThrow(() -> new IllegalStateException("layer " + e.getName() + " missing"));
          double error = relativeError(e.getBlobs(i), a.getBlobs(i)) * SOLVER_TOLERANCE / weightTolerance;
          if (error > worst) {
            worst = error;
            where = "iteration " + k + " " + e.getName() + " blob " + i;
          }
        }
      }
      SolverState cs = BinaryProto.readSolverState(root.resolve("exact/" + name + "/otto_iter_" + k + ".solverstate"));
      SolverState ms = BinaryProto.readSolverState(out.resolve("otto_iter_" + k + ".solverstate"));
      for (int i = 0; i < cs.getHistoryCount(); i++) {
        double error = relativeError(cs.getHistory(i), ms.getHistory(i));
        if (error > worst) {
          worst = error;
          where = "iteration " + k + " history " + i;
        }
      }
    }
    return new Result("solver " + name + " (otto-mini, 5 iterations vs Caffe 1.0)", worst <= SOLVER_TOLERANCE,
        worst, "at " + where + (weightTolerance == SOLVER_TOLERANCE ? ""
            : " (weights scaled by " + SOLVER_TOLERANCE + "/" + weightTolerance + ")"));
  }

  /** A net of the otto-mini fixture with its data sources made absolute (under {@code root}). */
  public static NetParameter fixtureNet(Path root, String file) {
    NetParameter.Builder b = Prototxt.readNet(root.resolve(file)).toBuilder();
    for (int i = 0; i < b.getLayerCount(); i++) {
      LayerParameter l = b.getLayer(i);
      if (l.hasDataParam()) {
        b.setLayer(i, l.toBuilder().setDataParam(l.getDataParam().toBuilder()
            .setSource(root.resolve(l.getDataParam().getSource()).toString())));
      }
    }
    return b.build();
  }

  /** The smallest magnitude an element's error is taken relative to (see {@link #relativeError}). */
  public static final double ERROR_FLOOR = 1e-3;

  /**
   * The largest element-wise error of {@code actual} against {@code expected}:
   * max over i of |actual[i] − expected[i]| / max(|expected[i]|, {@value #ERROR_FLOOR}). Every
   * element counts for itself, so a small element cannot hide behind the blob's largest one.
   * Infinite when the sizes differ.
   */
  public static double relativeError(BlobProto expected, BlobProto actual) {
    if (expected.getDataCount() != actual.getDataCount()) {
      return Double.POSITIVE_INFINITY;
    }
    double worst = 0;
    for (int i = 0; i < expected.getDataCount(); i++) {
      double e = expected.getData(i);
      double err = Math.abs(actual.getData(i) - e) / Math.max(Math.abs(e), ERROR_FLOOR);
      worst = Math.max(worst, err);
    }
    return worst;
  }

  private static final class Worst {
    double worst;
    int compared;
    String where = "";

    void compare(String what, float[] cpu, float[] dev, int n) {
      for (int i = 0; i < n; i++) {
        double scale = Math.max(1, Math.max(Math.abs(cpu[i]), Math.abs(dev[i])));
        double d = Math.abs(cpu[i] - dev[i]) / scale;
        if (!(d <= worst)) {
          worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
          where = what + "[" + i + "]: cpu " + cpu[i] + ", device " + dev[i];
        }
        compared++;
      }
    }
  }
}
