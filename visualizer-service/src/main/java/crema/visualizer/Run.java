package crema.visualizer;

import com.fasterxml.jackson.annotation.JsonInclude;
import crema.proto.Checkpoint;
import crema.proto.Job;
import crema.proto.TrainEvent;
import io.micronaut.serde.annotation.Serdeable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the dashboard knows of one training run, rebuilt from crema.jobs, train-events and checkpoints. */
final class Run {
  /** Where a checkpoint's record lies, to read its weights back from Kafka when asked. */
  record CheckpointRef(int iteration, long createdMs, int partition, long offset, int bytes, String sha256,
      Map<String, Double> metrics) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Summary(String run, String model, String state, int iteration, Double loss, double learningRate,
      Map<String, Double> testOutputs, double examplesPerSecond, long startedMs, long updatedMs, String message,
      int checkpoints) {}

  /** A curve as columns, ready for a chart. */
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Series(int[] iterations, long[] times, double[] values) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record CheckpointView(int iteration, long createdMs, int bytes, String sha256, Map<String, Double> metrics) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Detail(Summary summary, String solver, String net, String deploy, List<String> labels,
      Map<String, Series> curves, List<CheckpointView> checkpoints) {}

  static final double SMOOTHING = 0.9;

  final String id;
  private final int maxPoints;
  String model = "";
  String state = "SUBMITTED";
  int iteration;
  double loss = Double.NaN;
  double learningRate;
  Map<String, Double> testOutputs = new TreeMap<>();
  double examplesPerSecond;
  long startedMs;
  long updatedMs;
  String message = "";
  String solver = "";
  String net = "";
  private String deploy = "";
  private String jobDeploy = "";
  List<String> labels = List.of();
  /** The moving average's accumulator (started at 0) and how many losses it has taken. */
  private double smoothingSum;
  private int smoothingCount;
  private final Map<String, Curve> curves = new LinkedHashMap<>();
  private final List<CheckpointRef> checkpoints = new ArrayList<>();
  long version;

  Run(String id, int maxPoints) {
    this.id = id;
    this.maxPoints = maxPoints;
  }

  private void point(String curve, int iter, long timeMs, double value) {
    if (Double.isFinite(value)) {
      curves.computeIfAbsent(curve, k -> new Curve(maxPoints)).add(iter, timeMs, value);
    }
  }

  // Jobs, events and checkpoints are separate topics, read in no fixed order relative to each
  // other: each field is merged so that any order gives the same run (a restarted visualizer must
  // show what it showed).
  void onJob(Job job, long timeMs) {
    model = job.getModel();
    solver = job.getSolverPrototxt();
    net = job.getNetPrototxt();
    jobDeploy = job.getDeployPrototxt();
    if (labels.isEmpty()) {
      labels = List.copyOf(job.getLabelNamesList());
    }
    started(job.getSubmittedMs() > 0 ? job.getSubmittedMs() : timeMs);
    version++;
  }

  private void started(long ms) {
    startedMs = startedMs == 0 ? ms : Math.min(startedMs, ms);
  }

  /** The deploy net the trainer derived (in checkpoints), else the one the job gave. */
  String deploy() {
    return deploy.isEmpty() ? jobDeploy : deploy;
  }

  void onEvent(TrainEvent e) {
    model = e.getModel();
    started(e.getTimeMs());
    updatedMs = Math.max(updatedMs, e.getTimeMs());
    iteration = Math.max(iteration, e.getIteration());
    if (!e.getState().isEmpty()) {
      state = e.getState();
    }
    message = e.getMessage();
    if (e.getExamplesPerSecond() > 0) {
      examplesPerSecond = e.getExamplesPerSecond();
    }
    int it = e.getIteration();
    long t = e.getTimeMs();
    if (e.getPhase() == TrainEvent.Phase.TEST) {
      e.getOutputsMap().forEach((k, v) -> {
        if (Double.isFinite(v)) {
          testOutputs.put(k, v);
          point("test/" + k, it, t, v);
        }
      });
    } else if (Double.isFinite(e.getLoss())) {
      loss = e.getLoss();
      // Raw is the loss Caffe prints at each display (itself averaged over average_loss
      // iterations); smoothed is an exponential moving average of it, TensorBoard's 0.9, with
      // Adam's bias correction: started at 0 and divided by 1 - 0.9^n, it is the mean of the losses
      // so far weighted 0.9^age. Started at the first loss instead, that first (highest) loss would
      // keep weight 0.9^n and hold the curve up for dozens of displays.
      smoothingSum = SMOOTHING * smoothingSum + (1 - SMOOTHING) * loss;
      smoothingCount++;
      double smoothed = smoothingSum / (1 - Math.pow(SMOOTHING, smoothingCount));
      point("train/loss", it, t, loss);
      point("train/loss (smoothed)", it, t, smoothed);
      e.getOutputsMap().forEach((k, v) -> point("train/output/" + k, it, t, v));
      if (e.getLearningRate() != 0) {
        learningRate = e.getLearningRate();
        point("train/lr", it, t, learningRate);
      }
      e.getUpdateRatiosMap().forEach((k, v) -> {
        if (v > 0) {
          point("ratio/" + k, it, t, v);
        }
      });
    }
    version++;
  }

  void onCheckpoint(Checkpoint c, int partition, long offset, int bytes) {
    model = c.getModel();
    if (solver.isEmpty()) {
      solver = c.getSolverPrototxt();
      net = c.getNetPrototxt();
    }
    // A manifest too large with its prototxts leaves them to its parts: keep what is known.
    if (!c.getDeployPrototxt().isEmpty()) {
      deploy = c.getDeployPrototxt();
    }
    labels = List.copyOf(c.getLabelNamesList());
    checkpoints.removeIf(r -> r.iteration() == c.getIteration());
    checkpoints.add(new CheckpointRef(c.getIteration(), c.getCreatedMs(), partition, offset, bytes, c.getSha256(),
        Map.copyOf(c.getMetricsMap())));
    if (checkpoints.size() > maxPoints) {
      checkpoints.remove(0);
    }
    version++;
  }

  CheckpointRef checkpoint(int iter) {
    for (CheckpointRef r : checkpoints) {
      if (r.iteration() == iter) {
        return r;
      }
    }
    return null;
  }

  Summary summary() {
    // JSON has no NaN: a run with no finite loss yet has none.
    return new Summary(id, model, state, iteration, Double.isFinite(loss) ? loss : null, learningRate,
        Map.copyOf(testOutputs), examplesPerSecond,
        startedMs, updatedMs, message, checkpoints.size());
  }

  Detail detail() {
    Map<String, Series> out = new LinkedHashMap<>();
    curves.forEach((name, c) -> {
      List<Curve.Point> pts = c.points();
      int[] its = new int[pts.size()];
      long[] ts = new long[pts.size()];
      double[] vs = new double[pts.size()];
      for (int i = 0; i < pts.size(); i++) {
        its[i] = pts.get(i).iteration();
        ts[i] = pts.get(i).timeMs();
        vs[i] = pts.get(i).value();
      }
      out.put(name, new Series(its, ts, vs));
    });
    List<CheckpointView> cps = checkpoints.stream()
        .map(r -> new CheckpointView(r.iteration(), r.createdMs(), r.bytes(), r.sha256(), r.metrics())).toList();
    return new Detail(summary(), solver, net, deploy(), labels, out, cps);
  }
}
