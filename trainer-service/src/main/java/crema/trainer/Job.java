package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.SolverState;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import crema.bus.CheckpointDigest;
import crema.bus.CheckpointLog;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LogNumber;
import crema.engine.Net;
import crema.engine.Resumable;
import crema.engine.Solver;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.DatasetSchema;
import crema.proto.ModelContract;
import crema.proto.PartitionOffset;
import crema.proto.TrainEvent;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run: the solver and net of a job, its Data layers on Kafka topics, resumed from its
 * own newest checkpoint when there is one (weights, solver history and topic offsets together), or
 * started from the newest checkpoint of the run it names in {@code resume_from}, publishing
 * TrainEvents and Checkpoints (with the model contract) as it goes.
 */
final class Job implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Job.class);

  enum State { QUEUED, WAITING, RUNNING, STOPPING, FINISHED, STOPPED, FAILED }

  /** What a job needs of the trainer that runs it. */
  interface Host {
    /** The run ended by itself: FINISHED or FAILED, with the reason. */
    void finished(Job job, String state, String message);

    /** Its topics hold no records yet: run it again a little later. */
    void retryLater(Job job);
  }

  private final String id;
  private final JobSpec spec;
  private final KafkaClients clients;
  private final KafkaProducer<String, byte[]> producer;
  private final TrainerConfig config;
  private volatile State state = State.QUEUED;
  private volatile int iteration;
  private volatile String message = "";
  private volatile Solver solver;
  private final Map<String, Double> metrics = new LinkedHashMap<>();
  private String deployText;
  private ModelContract contract;
  private long startedMs;
  /** Partitions of each topic the Data layers read, as the run started. */
  private Map<String, Integer> partitionsOf = Map.of();
  private final Host host;

  private final TrainingMetrics meters;

  Job(String id, JobSpec spec, KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config,
      MeterRegistry registry, Host host) {
    this.id = id;
    this.spec = spec;
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    this.host = host;
    this.meters = registry == null ? null : TrainingMetrics.of(registry, spec.model());
  }

  /** A job that ended before this process started, as the jobs topic tells it: shown, not run. */
  static Job ended(String id, JobSpec spec, State state, String message, int iteration) {
    Job j = new Job(id, spec, null, null, null, null, null);
    j.state = state;
    j.message = message;
    j.iteration = iteration;
    return j;
  }

  /** The job as recorded on the jobs topic. */
  crema.proto.Job record() {
    return record(id, spec);
  }

  /** The record of job {@code id} with {@code spec}, as kept on the jobs topic (no state yet). */
  static crema.proto.Job record(String id, JobSpec spec) {
    crema.proto.Job.Builder j = crema.proto.Job.newBuilder().setId(id).setModel(spec.model())
        .setSolverPrototxt(spec.solver()).setNetPrototxt(spec.net());
    if (spec.deploy() != null) {
      j.setDeployPrototxt(spec.deploy());
    }
    if (spec.labels() != null) {
      j.addAllLabelNames(spec.labels());
    }
    if (spec.resumeFrom() != null) {
      j.setResumeFrom(spec.resumeFrom());
    }
    return j.build();
  }

  String id() {
    return id;
  }

  JobSpec spec() {
    return spec;
  }

  State state() {
    return state;
  }

  int iteration() {
    return iteration;
  }

  String message() {
    return message;
  }

  synchronized Map<String, Double> metrics() {
    return Map.copyOf(metrics);
  }

  /** Whether this replica runs the job (not merely lists it as crema.jobs tells it). */
  boolean local() {
    return host != null;
  }

  /** Asks the run to stop after the current iteration; it snapshots first. */
  void stop() {
    synchronized (runLock) {
      if (state == State.FINISHED || state == State.FAILED || state == State.STOPPED) {
        return;
      }
      state = State.STOPPING;
    }
    Solver s = solver;
    if (s != null) {
      s.request(Solver.Action.STOP);
    }
  }

  /** Guards {@link #active} and the check of a stop before a run. */
  private final Object runLock = new Object();
  /** Inside {@link #run}: a stop waits for it to end ({@link #awaitIdle}). */
  private boolean active;

  /**
   * Waits until the job is not running (after {@link #stop}: it has snapshotted and ended, or
   * never started and never will); false when {@code ms} passed first.
   */
  boolean awaitIdle(long ms) {
    long deadline = System.currentTimeMillis() + ms;
    synchronized (runLock) {
      while (active) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return false;
        }
        try {
          runLock.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }

  @Override
  public void run() {
    synchronized (runLock) {
      if (state == State.STOPPING || state == State.STOPPED) {
        state = State.STOPPED;
        return;
      }
      active = true;
    }
    try {
      runOnce();
    } finally {
      synchronized (runLock) {
        active = false;
        runLock.notifyAll();
      }
    }
  }

  private void runOnce() {
    try {
      NetParameter net = Prototxt.parseNet(spec.net(), spec.model() + " net");
      String waitingFor = DataSources.notReady(clients, net);
      if (waitingFor != null) {
        if (state != State.WAITING || !waitingFor.equals(message)) {
          state = State.WAITING;
          message = waitingFor;
          LOG.info("{}: job {} is waiting: {}", spec.model(), id, waitingFor);
          send(event(TrainEvent.Phase.TRAIN, iteration, Double.NaN, 0, Map.of()));
        }
        host.retryLater(this);
        return;
      }
      partitionsOf = DataSources.partitions(clients, net);
      message = "";
      state = State.RUNNING;
      startedMs = System.currentTimeMillis();
      SolverParameter sp = Prototxt.parseSolver(spec.solver(), spec.model() + " solver").toBuilder()
          .clearNet().clearTrainNet().clearTestNet().setNetParam(net)
          .setSolverMode(SolverParameter.SolverMode.CPU).build();
      try (Solver s = Solver.create(sp)) {
        solver = s;
        deployText = spec.deploy() != null && !spec.deploy().isBlank() ? spec.deploy()
            : Prototxt.print(DeployNets.derive(net, s.net()));
        // A checkpoint's metrics are those of its own iteration: the test due there runs first.
        s.testBeforeSnapshot(true);
        s.setSnapshotHandler(this::publishCheckpoint);
        s.addListener(new Solver.Listener() {
          private TrainEvent.Builder pending;
          /** Whether an iteration ran in this solve: before it, there is no train loss to show. */
          private boolean stepped;

          @Override
          public void onDisplay(int iter, double loss, float rate, Map<String, Float> outputs) {
            iteration = iter;
            record("train/loss", loss);
            meters.iteration = iter;
            meters.loss = loss;
            meters.learningRate = rate;
            // Sent once this iteration's update is applied, with its update:parameter ratios.
            pending = event(TrainEvent.Phase.TRAIN, iter, loss, rate, outputs);
          }

          @Override
          public void onUpdate(int iter, Net net) {
            stepped = true;
            if (pending != null && pending.getIteration() == iter) {
              for (Layer l : net.layers()) {
                for (int i = 0; i < l.blobs().size(); i++) {
                  double w = Math.sqrt(l.blobs().get(i).sumsqData());
                  double u = Math.sqrt(l.blobs().get(i).sumsqDiff());
                  pending.putUpdateRatios(l.param().getName() + "/" + i, w > 0 ? u / w : 0);
                }
              }
              send(pending);
              pending = null;
            }
          }

          @Override
          public void onTest(int iter, int testNet, Map<String, Float> scores, double loss) {
            scores.forEach((k, v) -> {
              record("test/" + k, v);
              meters.testScore(k, v);
            });
            send(event(TrainEvent.Phase.TEST, iter, loss, 0, scores));
            LOG.info("{}: {}", spec.model(), testSummary(iter, testNet, stepped ? s.smoothedLoss() : Double.NaN,
                scores));
          }
        });
        contract = contract(net, s);
        Optional<Checkpoint> last = Checkpoints.newest(clients, config.getCheckpointTopic(), id);
        if (last.isEmpty() && spec.resumeFrom() != null && !spec.resumeFrom().isBlank()) {
          last = Checkpoints.newest(clients, config.getCheckpointTopic(), spec.resumeFrom());
          if (last.isEmpty()) {
            throw new IllegalArgumentException("resume_from: run '" + spec.resumeFrom() + "' has no checkpoint");
          }
        }
        if (last.isPresent() && last.get().getRun().equals(id) && last.get().getIteration() >= sp.getMaxIter()) {
          // Its final checkpoint is out (the replica that ran it stopped before recording that): done.
          iteration = last.get().getIteration();
          state = State.FINISHED;
          LOG.info("{}: job {} reached iteration {} before; recorded FINISHED", spec.model(), id, iteration);
          host.finished(this, "FINISHED", "");
          return;
        }
        if (last.isPresent()) {
          Checkpoint cp = last.get();
          LOG.info("{}: resuming from checkpoint at iteration {} of run {}{}", spec.model(), cp.getIteration(),
              cp.getRun(), cp.getRun().equals(id) ? "" : " (job " + id + ")");
          s.net().copyTrainedLayersFrom(BinaryProto.parseNet(cp.getCaffemodel().toByteArray(), "checkpoint"));
          s.restoreState(SolverState.parseFrom(cp.getSolverstate()), "checkpoint of " + spec.model());
        }
        if (state == State.STOPPING) {
          s.request(Solver.Action.STOP);
        }
        s.solve(null);
        iteration = s.iter();
        state = state == State.STOPPING ? State.STOPPED : State.FINISHED;
        send(event(TrainEvent.Phase.TRAIN, s.iter(), s.smoothedLoss(), 0, Map.of()));
        if (state == State.FINISHED) {
          host.finished(this, "FINISHED", "");
        }
      }
    } catch (RuntimeException | InvalidProtocolBufferException e) {
      boolean stopping = state == State.STOPPING;
      state = stopping ? State.STOPPED : State.FAILED;
      message = e.getMessage();
      LOG.error("{}: job {} {}: {}", spec.model(), id, stopping ? "stopped" : "failed", e.getMessage());
      send(event(TrainEvent.Phase.TRAIN, iteration, Double.NaN, 0, Map.of()));
      if (!stopping) {
        host.finished(this, "FAILED", String.valueOf(e.getMessage()));
      }
    } finally {
      solver = null;
    }
  }

  /**
   * The model contract: the TEST Data layer's transform_param, and what ingest recorded of its
   * dataset on {@code crema.datasets} (features by name, id and label columns, label names, log1p).
   * Label names given with the job take precedence over the dataset's.
   */
  private ModelContract contract(NetParameter net, Solver s) {
    ModelContract.Builder c = crema.engine.contract.ModelContract.fromNet(net);
    LayerParameter data = crema.engine.contract.ModelContract.testDataLayer(net);
    Optional<String> dataset = data == null || data.getDataParam().getBackend() != DB.KAFKA ? Optional.empty()
        : TopicLog.datasetOf(data.getDataParam().getSource());
    Optional<DatasetSchema> schema = dataset.flatMap(d ->
        TopicLog.datasetSchema(clients, config.getDatasetsTopic(), d));
    if (schema.isPresent()) {
      DatasetSchema d = schema.get();
      c.setDataset(d.getDataset()).addAllFeatureNames(d.getFeatureNamesList()).setIdColumn(d.getIdColumn())
          .setLabelColumn(d.getLabelColumn()).addAllLabelNames(d.getLabelNamesList()).setLog1P(d.getLog1P());
      // An image dataset's Datums are C×H×W: without a crop the TEST net's data item is that shape,
      // so a served model knows its images' shape; rows of features stay (features, 1, 1).
      Blob item = s.net().blob(data.getTop(0));
      boolean cropped = c.hasTransform() && c.getTransform().getCropSize() > 0;
      if (!cropped && item.numAxes() == 4 && item.count(1) == d.getFeatureNamesCount()) {
        c.addInputShape(item.shape(1)).addInputShape(item.shape(2)).addInputShape(item.shape(3));
      } else {
        c.addInputShape(d.getFeatureNamesCount()).addInputShape(1).addInputShape(1);
      }
    } else if (data != null && !(c.hasTransform() && c.getTransform().getCropSize() > 0)) {
      // No schema (Datums written by another client): the raw row is the TEST net's data item.
      Blob blob = s.net().blob(data.getTop(0));
      for (int i = 1; i < blob.numAxes(); i++) {
        c.addInputShape(blob.shape(i));
      }
      while (c.getInputShapeCount() < 3) {
        c.addInputShape(1);
      }
    }
    if (spec.labels() != null && !spec.labels().isEmpty()) {
      c.clearLabelNames().addAllLabelNames(spec.labels());
    }
    return c.build();
  }

  /**
   * A test in one line, the solver's several folded together for a console (crema up's progress):
   * {@code iteration 10000, loss 0.52, test accuracy 0.79, test loss 0.61}. The loss is the
   * solver's smoothed train loss (what its display prints), left out before the first iteration.
   */
  static String testSummary(int iter, int testNet, double trainLoss, Map<String, Float> scores) {
    StringBuilder line = new StringBuilder("iteration ").append(iter);
    if (!Double.isNaN(trainLoss)) {
      line.append(", loss ").append(LogNumber.format(trainLoss));
    }
    String test = testNet == 0 ? "test " : "test#" + testNet + " ";
    scores.forEach((name, value) -> line.append(", ").append(test).append(name).append(' ')
        .append(LogNumber.format(value)));
    return line.toString();
  }

  private synchronized void record(String key, double value) {
    metrics.put(key, value);
  }

  private TrainEvent.Builder event(TrainEvent.Phase phase, int iter, double loss, float rate, Map<String, Float> outputs) {
    TrainEvent.Builder e = TrainEvent.newBuilder().setModel(spec.model()).setRun(id).setIteration(iter)
        .setPhase(phase).setLoss(loss).setLearningRate(rate).setTimeMs(System.currentTimeMillis())
        .setState(state.name()).setMessage(message);
    outputs.forEach((k, v) -> e.putOutputs(k, v));
    long elapsed = System.currentTimeMillis() - startedMs;
    Solver s = solver;
    if (s != null && elapsed > 0) {
      e.setExamplesPerSecond(1000.0 * iter * batchSize(s) / elapsed);
      meters.examplesPerSecond = e.getExamplesPerSecond();
    }
    return e;
  }

  private void send(TrainEvent.Builder e) {
    producer.send(new ProducerRecord<>(config.getEventsTopic(), id, e.build().toByteArray()));
  }

  private static int batchSize(Solver s) {
    for (Layer l : s.net().layers()) {
      if (l.param().hasDataParam()) {
        return (int) l.param().getDataParam().getBatchSize();
      }
    }
    return 1;
  }

  /** The solver's snapshot, as a Checkpoint (one record, or parts and a manifest): weights, solver state, offsets. */
  private void publishCheckpoint(Solver s) {
    long start = System.nanoTime();
    byte[] caffemodel = s.net().toProto(false).toByteArray();
    byte[] state = s.solverState(spec.model() + "_iter_" + s.iter() + ".caffemodel").toByteArray();
    Checkpoint.Builder c = Checkpoint.newBuilder().setModel(spec.model()).setRun(id).setIteration(s.iter())
        // Wrapped, not copied: a large net's checkpoint would otherwise be in memory twice more.
        .setDeployPrototxt(deployText).setCaffemodel(UnsafeByteOperations.unsafeWrap(caffemodel))
        .setSolverstate(UnsafeByteOperations.unsafeWrap(state)).setSha256(CheckpointDigest.sha256(caffemodel, state))
        .setCreatedMs(System.currentTimeMillis()).setSolverPrototxt(spec.solver()).setNetPrototxt(spec.net())
        .addAllLabelNames(contract.getLabelNamesList()).setContract(contract).putAllMetrics(metrics());
    for (Layer l : s.net().layers()) {
      if (l instanceof Resumable r && l.param().hasDataParam() && l.param().getDataParam().getBackend() == DB.KAFKA) {
        // The solver state holds the layer's grid point; here it is spelled out per partition.
        int partitions = Math.max(1, partitionsOf.getOrDefault(r.readSource(), 1));
        for (int q = 0; q < partitions; q++) {
          c.addOffsets(PartitionOffset.newBuilder().setTopic(r.readSource()).setPartition(q)
              .setOffset(KafkaDatumCursor.offsetIn(r.readPosition(), q, partitions)));
        }
      }
    }
    Checkpoint checkpoint = c.build();
    CheckpointLog.publish(producer, config.getCheckpointTopic(), checkpoint, config.getCheckpointPartBytes());
    meters.checkpointPublish.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    meters.checkpointSize.record(checkpoint.getSerializedSize());
    iteration = s.iter();
    meters.iteration = iteration;
    LOG.info("{}: published checkpoint at iteration {}", spec.model(), s.iter());
  }
}
