package crema.engine;

import caffe.Caffe.BlobProto;
import caffe.Caffe.DataCursorState;
import caffe.Caffe.NetParameter;
import caffe.Caffe.NetState;
import caffe.Caffe.Phase;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.SolverState;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.engine.io.Upgrade;
import crema.engine.math.Backend;
import crema.engine.math.Device;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Trains a net as Caffe's Solver and SGDSolver do: the same iteration order (test, forward and
 * backward over iter_size, display, learning rate, clip, normalise, regularise, solver update,
 * snapshot), the same learning-rate policies, log lines, snapshot names and solver state. Each
 * solver type (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam) supplies only its update rule.
 *
 * <p>Beyond Caffe, the solver state also records where each data layer will read next, so that a
 * resumed run is bit-identical to an uninterrupted one.
 */
public abstract class Solver implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Solver.class.getName());
  /** −ln(FLT_MIN): the loss of a SoftmaxWithLoss whose probabilities have all collapsed. */
  public static final double DIVERGED_LOSS = 87.3365;
  private static final int DIVERGED_STREAK = 10;

  /** What a signal asks the solver to do (Caffe's SolverAction). */
  public enum Action { NONE, SNAPSHOT, STOP }

  /**
   * Takes over snapshots from the file writer: the trainer service publishes a checkpoint record
   * instead of writing {@code .caffemodel} and {@code .solverstate} files.
   */
  @FunctionalInterface
  public interface SnapshotHandler {
    void snapshot(Solver solver);
  }

  /** Receives progress; the trainer service publishes events and checkpoints from it. */
  public interface Listener {
    default void onDisplay(int iter, double smoothedLoss, float rate, Map<String, Float> outputs) {}

    default void onTest(int iter, int testNet, Map<String, Float> scores, double loss) {}

    default void onSnapshot(int iter, Path caffemodel, Path solverstate) {}

    /**
     * After the update of iteration {@code iter} is applied: each learnable parameter's diff still
     * holds the step just taken (W was decreased by it), so |diff| / |W| is its update:parameter
     * ratio. Called every iteration; listeners keep it cheap.
     */
    default void onUpdate(int iter, Net net) {}
  }

  protected final SolverParameter param;
  protected final Backend math = Backend.cpu();
  protected final Net net;
  /**
   * This solver's random generator (Caffe seeds one per solver from random_seed): its train net
   * and test nets draw from it, and nothing else does, so two solvers in one JVM, or nets built by
   * other services meanwhile, do not shift each other's streams.
   */
  private final Rng rng;
  /** The device the train net runs on (its blobs' updates run there too); null: the CPU. */
  protected final Device device;
  protected final List<Net> testNets = new ArrayList<>();
  /** Solver history, one blob per learnable parameter (two for AdaDelta and Adam). */
  protected final List<Blob> history = new ArrayList<>();
  private int iter;
  private int currentStep;
  private final List<Double> losses = new ArrayList<>();
  private double smoothedLoss;
  private final List<Listener> listeners = new ArrayList<>();
  private volatile Action requested = Action.NONE;
  private SnapshotHandler snapshotHandler;
  private boolean testBeforeSnapshot;
  /** With testBeforeSnapshot: the iteration whose test ran ahead of its snapshot (−1: none). */
  private int testedAhead = -1;
  /** With testBeforeSnapshot, in solve: the snapshot at max_iter, taken after the final test. */
  private boolean finalSnapshotPending;
  private boolean requestedEarlyExit;
  private int divergedStreak;
  private Path lastSnapshot;
  private long timerStart;
  private int iterationsLast;

  protected Solver(SolverParameter param) {
    this.param = param;
    rng = param.getRandomSeed() >= 0 ? new Rng(param.getRandomSeed()) : new Rng();
    if (param.getAverageLoss() < 1) {
      throw new IllegalArgumentException("average_loss should be non-negative and at least 1");
    }
    if (!param.getRegularizationType().equals("L1") && !param.getRegularizationType().equals("L2")) {
      throw new IllegalArgumentException("Unknown regularization type: " + param.getRegularizationType());
    }
    if (param.getSnapshotFormat() == SolverParameter.SnapshotFormat.HDF5) {
      throw new IllegalArgumentException("snapshot_format: HDF5 is not supported; use BINARYPROTO");
    }
    LOG.log(Level.INFO, "Initializing solver from parameters: type " + param.getType());
    net = new Net(trainNetParam(param), trainState(param), Backend.cpu(), rng);
    device = net.device();
    initTestNets();
    for (Blob p : net.learnableParams()) {
      history.add(new Blob(p.shape()).named(p.name() + " history"));
    }
    LOG.log(Level.INFO, "Solver scaffolding done.");
  }

  /**
   * Creates the solver that {@code param.type} names (after the solver_type upgrade). Solver
   * classes register themselves with {@link SolverType}.
   */
  public static Solver create(SolverParameter param) {
    Function<SolverParameter, Solver> factory = SolverTypes.TYPES.get(param.getType());
    if (factory == null) {
      throw new IllegalArgumentException("Unknown solver type: " + param.getType()
          + " (known: " + String.join(", ", SolverTypes.TYPES.keySet()) + ")");
    }
    return factory.apply(param);
  }

  /** The registered solver classes, read once, when a solver is first created. */
  private static final class SolverTypes {
    static final Map<String, Function<SolverParameter, Solver>> TYPES =
        Registrations.load("solver-types", SolverParameter.class, Solver.class);
  }

  private static NetParameter trainNetParam(SolverParameter p) {
    int given = (p.hasTrainNetParam() ? 1 : 0) + (p.hasTrainNet() ? 1 : 0) + (p.hasNetParam() ? 1 : 0)
        + (p.hasNet() ? 1 : 0);
    if (given == 0) {
      throw new IllegalArgumentException("One of train_net_param, train_net, net_param, net must be"
          + " specified in the solver.");
    }
    if (given > 1) {
      throw new IllegalArgumentException("Only one of train_net_param, train_net, net_param, net"
          + " may be specified in the solver.");
    }
    if (p.hasTrainNetParam()) {
      return Upgrade.net(p.getTrainNetParam(), "train_net_param");
    }
    if (p.hasTrainNet()) {
      return Prototxt.readNet(Path.of(p.getTrainNet()));
    }
    if (p.hasNetParam()) {
      return Upgrade.net(p.getNetParam(), "net_param");
    }
    return Prototxt.readNet(Path.of(p.getNet()));
  }

  private static NetParameter withState(NetParameter n, NetState s) {
    return n.toBuilder().setState(s).build();
  }

  private static NetState trainState(SolverParameter p) {
    NetParameter n = trainNetParam(p);
    return NetState.newBuilder().setPhase(Phase.TRAIN).mergeFrom(n.getState())
        .mergeFrom(p.getTrainState()).setPhase(Phase.TRAIN).build();
  }

  private void initTestNets() {
    SolverParameter p = param;
    boolean generic = p.hasNetParam() || p.hasNet();
    int specific = p.getTestNetParamCount() + p.getTestNetCount();
    if (generic ? p.getTestIterCount() < specific : p.getTestIterCount() != specific) {
      throw new IllegalArgumentException("test_iter must be specified for each test network.");
    }
    int instances = specific + (generic ? p.getTestIterCount() - specific : 0);
    if (p.getTestStateCount() > 0 && p.getTestStateCount() != instances) {
      throw new IllegalArgumentException("test_state must be unspecified or specified once per test net.");
    }
    if (instances > 0 && p.getTestInterval() <= 0) {
      throw new IllegalArgumentException("test_interval must be positive when test nets exist");
    }
    List<NetParameter> sources = new ArrayList<>();
    for (NetParameter n : p.getTestNetParamList()) {
      sources.add(Upgrade.net(n, "test_net_param"));
    }
    for (String f : p.getTestNetList()) {
      sources.add(Prototxt.readNet(Path.of(f)));
    }
    for (int i = specific; i < instances; i++) {
      sources.add(p.hasNetParam() ? Upgrade.net(p.getNetParam(), "net_param")
          : Prototxt.readNet(Path.of(p.getNet())));
    }
    for (int i = 0; i < sources.size(); i++) {
      NetParameter n = sources.get(i);
      NetState.Builder s = NetState.newBuilder().setPhase(Phase.TEST).mergeFrom(n.getState());
      if (p.getTestStateCount() > 0) {
        s.mergeFrom(p.getTestState(i));
      }
      s.setPhase(s.hasPhase() ? s.getPhase() : Phase.TEST);
      Net test = new Net(withState(n, s.build()), s.build(), Backend.cpu(), rng);
      test.shareTrainedLayersWith(net);
      testNets.add(test);
    }
  }

  public SolverParameter param() {
    return param;
  }

  public Net net() {
    return net;
  }

  public List<Net> testNets() {
    return testNets;
  }

  public int iter() {
    return iter;
  }

  public List<Blob> history() {
    return history;
  }

  public void addListener(Listener l) {
    listeners.add(l);
  }

  /** Asks the solver to snapshot or stop after the current iteration (from a signal handler). */
  public void request(Action action) {
    requested = action;
  }

  private Action takeRequest() {
    Action a = requested;
    requested = Action.NONE;
    return a;
  }

  /** Loads weights from caffemodels into the train net (test nets share them), as -weights does. */
  public void copyWeightsFrom(List<Path> caffemodels) {
    for (Path f : caffemodels) {
      LOG.log(Level.INFO, "Finetuning from " + f);
      NetParameter trained = BinaryProto.readNet(f);
      net.copyTrainedLayersFrom(trained);
    }
  }

  /**
   * Trains to max_iter (Caffe's Solve): restores {@code resumeFile} first when given, snapshots
   * at the end when snapshot_after_train says so, runs the final display forward and test.
   */
  public void solve(Path resumeFile) {
    LOG.log(Level.INFO, "Solving " + net.name());
    LOG.log(Level.INFO, "Learning Rate Policy: " + param.getLrPolicy());
    requestedEarlyExit = false;
    if (resumeFile != null) {
      LOG.log(Level.INFO, "Restoring previous solver status from " + resumeFile);
      restore(resumeFile);
    }
    int startIter = iter;
    finalSnapshotPending = false;
    step(param.getMaxIter() - iter, testBeforeSnapshot);
    // The snapshot step deferred (if any), then snapshot_after_train's, as Caffe takes both.
    int finalSnapshots = (finalSnapshotPending ? 1 : 0)
        + (param.getSnapshotAfterTrain() && (param.getSnapshot() == 0 || iter % param.getSnapshot() != 0) ? 1 : 0);
    finalSnapshotPending = false;
    if (testBeforeSnapshot && !requestedEarlyExit && testDue()) {
      // The final display forward and test first, as Caffe runs them, then the snapshot: it
      // carries the weights (batch-norm statistics included) the final test measured.
      finalDisplay(startIter);
      if (testedAhead != iter) {
        testAll();
      }
      for (int k = 0; k < finalSnapshots; k++) {
        snapshot();
      }
      LOG.log(Level.INFO, "Optimization Done.");
      return;
    }
    for (int k = 0; k < finalSnapshots; k++) {
      snapshot();
    }
    if (requestedEarlyExit) {
      LOG.log(Level.INFO, "Optimization stopped early.");
      return;
    }
    finalDisplay(startIter);
    if (param.getTestInterval() > 0 && iter % param.getTestInterval() == 0 && testedAhead != iter) {
      testAll();
    }
    LOG.log(Level.INFO, "Optimization Done.");
  }

  /** Solve's last forward of the train net, when display falls on max_iter. */
  private void finalDisplay(int startIter) {
    if (param.getDisplay() > 0 && iter % param.getDisplay() == 0) {
      double loss = net.forward();
      updateSmoothedLoss(loss, startIter);
      LOG.log(Level.INFO, "Iteration " + iter + ", loss = " + LogNumber.format((float) smoothedLoss));
    }
  }

  /**
   * Whether a snapshot at an iteration where a test is due runs that test first (default: no, as
   * Caffe, which tests at the start of an iteration and snapshots at the end of the one before,
   * so a snapshot carries the previous test's metrics).
   *
   * <p>On: a snapshot at an iteration that is a multiple of test_interval, when test nets exist,
   * runs the test of that iteration first (listeners' {@code onTest} fire as usual), and the
   * solver then does not run it again at the start of the next iteration or at the end of
   * {@link #solve}: every test iteration is tested once, with the same numbers, only earlier, so
   * a {@link SnapshotHandler} publishing a checkpoint sees that checkpoint's own test metrics.
   * In {@link #solve}, the snapshot at max_iter is taken after the final display forward and the
   * final test. A snapshot taken on a STOP request does not test first (the run stops without
   * that test, as it does with the option off); neither does one requested in the middle of a
   * test. Training, and so the final weights, are unchanged. Called through {@link #step}, a
   * snapshot at the last iteration of the call also tests first, which the next call's first
   * iteration then skips.
   *
   * @return this solver
   */
  public Solver testBeforeSnapshot(boolean on) {
    this.testBeforeSnapshot = on;
    return this;
  }

  public boolean testBeforeSnapshot() {
    return testBeforeSnapshot;
  }

  /** Whether the current iteration is one at which the test nets are tested. */
  private boolean testDue() {
    return !testNets.isEmpty() && param.getTestInterval() > 0 && iter % param.getTestInterval() == 0;
  }

  /** Runs {@code iters} iterations (Caffe's Step). */
  public void step(int iters) {
    step(iters, false);
  }

  /**
   * Runs {@code iters} iterations; {@code deferLastTestedSnapshot} (solve, with
   * testBeforeSnapshot): a snapshot due at the last iteration where a test is due is left to
   * solve, which takes it after the final display forward and test.
   */
  private void step(int iters, boolean deferLastTestedSnapshot) {
    int startIter = iter;
    int stopIter = iter + iters;
    losses.clear();
    smoothedLoss = 0;
    timerStart = System.nanoTime();
    iterationsLast = iter;
    while (iter < stopIter) {
      net.clearParamDiffs();
      if (param.getTestInterval() > 0 && iter % param.getTestInterval() == 0
          && (iter > 0 || param.getTestInitialization()) && testedAhead != iter) {
        testAll();
        if (requestedEarlyExit) {
          break;
        }
      }
      boolean display = param.getDisplay() > 0 && iter % param.getDisplay() == 0;
      float loss = 0;
      for (int i = 0; i < param.getIterSize(); i++) {
        loss += (float) net.forwardBackward();
      }
      loss /= param.getIterSize();
      checkDivergence(loss);
      updateSmoothedLoss(loss, startIter);
      if (display) {
        display();
      }
      applyUpdate();
      for (Listener l : listeners) {
        l.onUpdate(iter, net);
      }
      iter++;
      Action request = takeRequest();
      if ((param.getSnapshot() > 0 && iter % param.getSnapshot() == 0) || request == Action.SNAPSHOT) {
        if (testBeforeSnapshot && request != Action.STOP && testDue()) {
          if (deferLastTestedSnapshot && iter == stopIter) {
            finalSnapshotPending = true;
          } else {
            if (testedAhead != iter) {
              testAll();
              testedAhead = requestedEarlyExit ? -1 : iter;
            }
            snapshot();
            if (requestedEarlyExit) {
              break; // a STOP during that test
            }
          }
        } else {
          snapshot();
        }
      }
      if (request == Action.STOP) {
        requestedEarlyExit = true;
        break;
      }
    }
  }

  private void checkDivergence(float loss) {
    if (!Float.isFinite(loss)) {
      throw new TrainingDivergedException(iter, loss, lastSnapshot, "the loss is " + loss);
    }
    divergedStreak = Math.abs(loss - DIVERGED_LOSS) < 1e-3 ? divergedStreak + 1 : 0;
    if (divergedStreak >= DIVERGED_STREAK) {
      throw new TrainingDivergedException(iter, loss, lastSnapshot, "the loss has stuck at 87.3365"
          + " = -ln(FLT_MIN) for " + DIVERGED_STREAK + " iterations: every probability of the true"
          + " class has collapsed to 0");
    }
  }

  private void display() {
    long now = System.nanoTime();
    float lapse = (now - timerStart) / 1e9f;
    float perS = (iter - iterationsLast) / (lapse != 0 ? lapse : 1);
    LOG.log(Level.INFO, "Iteration " + iter + " (" + LogNumber.format(perS) + " iter/s, "
        + LogNumber.format(lapse) + "s/" + param.getDisplay() + " iters), loss = "
        + LogNumber.format((float) smoothedLoss));
    timerStart = now;
    iterationsLast = iter;
    Map<String, Float> outputs = new LinkedHashMap<>();
    int score = 0;
    for (String name : net.outputNames()) {
      Blob b = net.blob(name);
      float w = net.outputLossWeight(name);
      for (int k = 0; k < b.count(); k++) {
        float v = b.data()[k];
        String lossMsg = w != 0 ? " (* " + LogNumber.format(w) + " = " + LogNumber.format(w * v) + " loss)" : "";
        LOG.log(Level.INFO, "    Train net output #" + score++ + ": " + name + " = " + LogNumber.format(v) + lossMsg);
        outputs.put(b.count() == 1 ? name : name + "[" + k + "]", v);
      }
    }
    float rate = learningRate();
    for (Listener l : listeners) {
      l.onDisplay(iter, smoothedLoss, rate, outputs);
    }
  }

  private void updateSmoothedLoss(double loss, int startIter) {
    int average = param.getAverageLoss();
    if (losses.size() < average) {
      losses.add(loss);
      int size = losses.size();
      smoothedLoss = (smoothedLoss * (size - 1) + loss) / size;
    } else {
      int idx = (iter - startIter) % average;
      smoothedLoss += (loss - losses.get(idx)) / average;
      losses.set(idx, loss);
    }
  }

  public double smoothedLoss() {
    return smoothedLoss;
  }

  /** Runs every test net. */
  public void testAll() {
    for (int i = 0; i < testNets.size() && !requestedEarlyExit; i++) {
      test(i);
    }
  }

  /** Tests net {@code i} over test_iter[i] batches and logs the mean of every output. */
  public Map<String, Float> test(int i) {
    LOG.log(Level.INFO, "Iteration " + iter + ", Testing net (#" + i + ")");
    Net test = testNets.get(i);
    float[] scores = null;
    float loss = 0;
    int testIter = param.getTestIter(i);
    for (int t = 0; t < testIter; t++) {
      Action request = takeRequest();
      if (request == Action.STOP) {
        requestedEarlyExit = true;
        break;
      } else if (request == Action.SNAPSHOT) {
        snapshot();
      }
      float iterLoss = (float) test.forward();
      if (param.getTestComputeLoss()) {
        loss += iterLoss;
      }
      int idx = 0;
      if (scores == null) {
        int total = 0;
        for (String name : test.outputNames()) {
          total += test.blob(name).count();
        }
        scores = new float[total];
      }
      for (String name : test.outputNames()) {
        Blob b = test.blob(name);
        for (int k = 0; k < b.count(); k++) {
          scores[idx++] += b.data()[k];
        }
      }
    }
    if (requestedEarlyExit) {
      LOG.log(Level.INFO, "Test interrupted.");
      return Map.of();
    }
    if (param.getTestComputeLoss()) {
      loss /= testIter;
      LOG.log(Level.INFO, "Test loss: " + LogNumber.format(loss));
    }
    Map<String, Float> means = new LinkedHashMap<>();
    int idx = 0;
    for (String name : test.outputNames()) {
      Blob b = test.blob(name);
      float w = test.outputLossWeight(name);
      for (int k = 0; k < b.count(); k++) {
        float mean = scores[idx] / testIter;
        String lossMsg = w != 0 ? " (* " + LogNumber.format(w) + " = " + LogNumber.format(w * mean) + " loss)" : "";
        LOG.log(Level.INFO, "    Test net output #" + idx + ": " + name + " = " + LogNumber.format(mean) + lossMsg);
        means.put(b.count() == 1 ? name : name + "[" + k + "]", mean);
        idx++;
      }
    }
    for (Listener l : listeners) {
      l.onTest(iter, i, means, loss);
    }
    return means;
  }

  /** The learning rate at the current iteration (Caffe's GetLearningRate; may advance current_step). */
  public float learningRate() {
    return learningRateAt(iter);
  }

  /** The learning rate at {@code iteration}, advancing current_step as Caffe's GetLearningRate does. */
  float learningRateAt(int iteration) {
    String policy = param.getLrPolicy();
    float base = param.getBaseLr();
    float gamma = param.getGamma();
    float power = param.getPower();
    switch (policy) {
      case "fixed":
        return base;
      case "step": {
        if (param.getStepsize() <= 0) {
          throw new IllegalArgumentException("lr_policy step needs stepsize > 0");
        }
        currentStep = iteration / param.getStepsize();
        return (float) (base * Math.pow(gamma, currentStep));
      }
      case "exp":
        return (float) (base * Math.pow(gamma, iteration));
      case "inv":
        return base * (float) Math.pow(1f + gamma * iteration, -power);
      case "multistep": {
        if (currentStep < param.getStepvalueCount() && iteration >= param.getStepvalue(currentStep)) {
          currentStep++;
          LOG.log(Level.INFO, "MultiStep Status: Iteration " + iteration + ", step = " + currentStep);
        }
        return (float) (base * Math.pow(gamma, currentStep));
      }
      case "poly":
        return base * (float) Math.pow(1f - ((float) iteration / param.getMaxIter()), power);
      case "sigmoid": {
        if (param.getStepsize() <= 0) {
          throw new IllegalArgumentException("lr_policy sigmoid needs stepsize > 0");
        }
        return base * (1f / (1f + (float) Math.exp(-gamma * ((float) iteration - param.getStepsize()))));
      }
      default:
        throw new IllegalArgumentException("Unknown learning rate policy: " + policy
            + " (known: fixed, step, exp, inv, multistep, poly, sigmoid)");
    }
  }

  /** One update: rate, clipping, then per parameter normalise, regularise, update; then W −= diff. */
  protected void applyUpdate() {
    float rate = learningRate();
    if (param.getDisplay() > 0 && iter % param.getDisplay() == 0) {
      LOG.log(Level.INFO, "Iteration " + iter + ", lr = " + LogNumber.format(rate));
    }
    clipGradients();
    List<Blob> params = net.learnableParams();
    for (int i = 0; i < params.size(); i++) {
      normalize(i);
      regularize(i);
      computeUpdateValue(i, rate);
    }
    for (Blob p : params) {
      if (device != null) {
        device.axpy(p.count(), -1f, p.deviceDiff(device), p.mutableDeviceData(device));
      } else {
        math.axpy(p.count(), -1f, p.diff(), 0, p.data(), 0);
      }
    }
  }

  /** diff ← scale·diff, on the device when the net runs on one. */
  private void scaleDiff(Blob p, float scale) {
    if (device != null) {
      device.scal(p.count(), scale, p.mutableDeviceDiff(device));
      return;
    }
    float[] g = p.diff();
    for (int k = 0; k < p.count(); k++) {
      g[k] *= scale;
    }
  }

  private void clipGradients() {
    float clip = param.getClipGradients();
    if (clip < 0) {
      return;
    }
    float sumsq = 0;
    for (Blob p : net.learnableParams()) {
      sumsq += (float) p.sumsqDiff();
    }
    float norm = (float) Math.sqrt(sumsq);
    if (norm > clip) {
      float scale = clip / norm;
      LOG.log(Level.INFO, "Gradient clipping: scaling down gradients (L2 norm " + LogNumber.format(norm)
          + " > " + LogNumber.format(clip) + ") by scale factor " + LogNumber.format(scale));
      for (Blob p : net.learnableParams()) {
        scaleDiff(p, scale);
      }
    }
  }

  private void normalize(int i) {
    if (param.getIterSize() == 1) {
      return;
    }
    scaleDiff(net.learnableParams().get(i), 1f / param.getIterSize());
  }

  private void regularize(int i) {
    Blob p = net.learnableParams().get(i);
    float decay = param.getWeightDecay() * net.decayMult(i);
    if (decay == 0) {
      return;
    }
    if (device != null && param.getRegularizationType().equals("L2")) {
      device.axpy(p.count(), decay, p.deviceData(device), p.mutableDeviceDiff(device));
      return;
    }
    float[] w = p.data();
    float[] g = p.diff();
    if (param.getRegularizationType().equals("L2")) {
      for (int k = 0; k < p.count(); k++) {
        g[k] += decay * w[k];
      }
    } else {
      for (int k = 0; k < p.count(); k++) {
        g[k] += decay * Math.signum(w[k]);
      }
    }
  }

  /**
   * Adds a second history blob per learnable parameter after the first ones (AdaDelta's E[Δ²],
   * Adam's v), in the order Caffe stores them in the solver state.
   */
  protected final void addSecondHistory() {
    int n = history.size();
    for (int i = 0; i < n; i++) {
      history.add(new Blob(history.get(i).shape()).named(history.get(i).name() + " 2"));
    }
  }

  /** The solver's own rule: leaves in diff the step to subtract from the parameter. */
  protected abstract void computeUpdateValue(int paramId, float rate);

  /** The local rate of parameter {@code i}: rate × lr_mult. */
  protected final float localRate(int i, float rate) {
    return rate * net.lrMult(i);
  }

  public void setSnapshotHandler(SnapshotHandler handler) {
    this.snapshotHandler = handler;
  }

  /**
   * Writes {@code <prefix>_iter_<iter>.caffemodel} and {@code .solverstate} and returns the state
   * file, or hands the snapshot to the {@link SnapshotHandler} (then returns null).
   */
  public Path snapshot() {
    if (snapshotHandler != null) {
      snapshotHandler.snapshot(this);
      return null;
    }
    String prefix = param.getSnapshotPrefix();
    if (prefix.isEmpty()) {
      throw new IllegalStateException("snapshot_prefix is empty");
    }
    Path model = Path.of(prefix + "_iter_" + iter + ".caffemodel");
    Path state = Path.of(prefix + "_iter_" + iter + ".solverstate");
    LOG.log(Level.INFO, "Snapshotting to binary proto file " + model);
    BinaryProto.write(net.toProto(param.getSnapshotDiff()), model);
    LOG.log(Level.INFO, "Snapshotting solver state to binary proto file " + state);
    BinaryProto.write(solverState(model.toString()), state);
    lastSnapshot = state;
    for (Listener l : listeners) {
      l.onSnapshot(iter, model, state);
    }
    return state;
  }

  /** The solver state Caffe writes, plus the read position of every data layer. */
  public SolverState solverState(String learnedNet) {
    SolverState.Builder s = SolverState.newBuilder().setIter(iter).setLearnedNet(learnedNet)
        .setCurrentStep(currentStep);
    for (Blob h : history) {
      s.addHistory(h.toProto(false));
    }
    for (Layer layer : net.layers()) {
      if (layer instanceof Resumable r) {
        s.addCremaDataCursor(DataCursorState.newBuilder().setLayer(layer.name())
            .setSource(r.readSource()).setPosition(r.readPosition()));
      }
    }
    return s.build();
  }

  /** Restores a .solverstate: iteration, weights (from learned_net), history, data positions. */
  public void restore(Path stateFile) {
    SolverState state = BinaryProto.readSolverState(stateFile);
    if (!state.getLearnedNet().isEmpty()) {
      Path model = Path.of(state.getLearnedNet());
      if (!Files.exists(model)) {
        throw new IllegalArgumentException(stateFile + ": learned_net '" + model + "' not found"
            + " (Caffe opens it relative to the working directory)");
      }
      net.copyTrainedLayersFrom(BinaryProto.readNet(model));
    }
    restoreState(state, stateFile.toString());
  }

  /** Restores iteration, history and data positions from a solver state already read. */
  public void restoreState(SolverState state, String source) {
    iter = state.getIter();
    testedAhead = -1;
    currentStep = state.getCurrentStep();
    if (state.getHistoryCount() != history.size()) {
      throw new IllegalArgumentException(source + ": Incorrect length of history blobs: the state has "
          + state.getHistoryCount() + ", solver " + param.getType() + " needs " + history.size());
    }
    for (int i = 0; i < history.size(); i++) {
      BlobProto h = state.getHistory(i);
      if (!history.get(i).accepts(h)) {
        throw new IllegalArgumentException(source + ": history blob " + i + " has shape "
            + Arrays.toString(Blob.shapeOf(h)) + ", the net needs " + history.get(i).shapeString());
      }
      history.get(i).fromProto(h, false);
    }
    for (DataCursorState c : state.getCremaDataCursorList()) {
      Layer layer = net.layer(c.getLayer());
      if (layer instanceof Resumable r && r.readSource().equals(c.getSource())) {
        r.seekReadPosition(c.getPosition());
        LOG.log(Level.INFO, "Data layer " + c.getLayer() + " resumes at record " + c.getPosition());
      } else {
        LOG.log(Level.WARNING, source + ": saved read position of data layer '" + c.getLayer()
            + "' (" + c.getSource() + ") does not match this net; it reads from the start");
      }
    }
  }

  @Override
  public void close() {
    net.close();
    for (Net n : testNets) {
      n.close();
    }
  }
}
