package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.SolverState;
import com.google.protobuf.ByteString;
import crema.bus.KafkaClients;
import crema.engine.Layer;
import crema.engine.Solver;
import crema.engine.data.Resumable;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.PartitionOffset;
import crema.proto.TrainEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run: the solver and net of a job, its Data layers on Kafka topics, resumed from the
 * model's newest checkpoint when there is one (weights, solver history and topic offsets
 * together), publishing TrainEvents and Checkpoints as it goes.
 */
final class Job implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Job.class);

  enum State { QUEUED, RUNNING, STOPPING, FINISHED, STOPPED, FAILED }

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
  private long startedMs;

  private final TrainingMetrics meters;

  Job(String id, JobSpec spec, KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config,
      io.micrometer.core.instrument.MeterRegistry registry) {
    this.id = id;
    this.spec = spec;
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    this.meters = TrainingMetrics.of(registry, spec.model());
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

  /** Asks the run to stop after the current iteration; it snapshots first. */
  void stop() {
    state = State.STOPPING;
    Solver s = solver;
    if (s != null) {
      s.request(Solver.Action.STOP);
    }
  }

  @Override
  public void run() {
    if (state == State.STOPPING) {
      state = State.STOPPED;
      return;
    }
    state = State.RUNNING;
    startedMs = System.currentTimeMillis();
    try {
      NetParameter net = Prototxt.parseNet(spec.net(), spec.model() + " net");
      SolverParameter sp = Prototxt.parseSolver(spec.solver(), spec.model() + " solver").toBuilder()
          .clearNet().clearTrainNet().clearTestNet().setNetParam(net)
          .setSolverMode(SolverParameter.SolverMode.CPU).build();
      try (Solver s = Solver.create(sp)) {
        solver = s;
        deployText = spec.deploy() != null && !spec.deploy().isBlank() ? spec.deploy()
            : Prototxt.print(DeployNets.derive(net, s.net()));
        s.setSnapshotHandler(this::publishCheckpoint);
        s.addListener(new Solver.Listener() {
          private TrainEvent.Builder pending;

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
          public void onUpdate(int iter, crema.engine.Net net) {
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
          }
        });
        Optional<Checkpoint> last = Checkpoints.newest(clients, config.getCheckpointTopic(), spec.model());
        if (last.isPresent()) {
          Checkpoint cp = last.get();
          LOG.info("{}: resuming from checkpoint at iteration {}", spec.model(), cp.getIteration());
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
      }
    } catch (RuntimeException | com.google.protobuf.InvalidProtocolBufferException e) {
      state = State.FAILED;
      message = e.getMessage();
      LOG.error("{}: job {} failed: {}", spec.model(), id, e.getMessage());
      send(event(TrainEvent.Phase.TRAIN, iteration, Double.NaN, 0, Map.of()));
    } finally {
      solver = null;
    }
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

  /** The solver's snapshot, as one Checkpoint record: weights, solver state and topic offsets. */
  private void publishCheckpoint(Solver s) {
    long start = System.nanoTime();
    byte[] caffemodel = s.net().toProto(false).toByteArray();
    byte[] state = s.solverState(spec.model() + "_iter_" + s.iter() + ".caffemodel").toByteArray();
    Checkpoint.Builder c = Checkpoint.newBuilder().setModel(spec.model()).setRun(id).setIteration(s.iter())
        .setDeployPrototxt(deployText).setCaffemodel(ByteString.copyFrom(caffemodel))
        .setSolverstate(ByteString.copyFrom(state)).setSha256(crema.bus.CheckpointDigest.sha256(caffemodel, state))
        .setCreatedMs(System.currentTimeMillis()).setSolverPrototxt(spec.solver()).setNetPrototxt(spec.net())
        .addAllLabelNames(spec.labels() == null ? List.of() : spec.labels()).putAllMetrics(metrics());
    for (Layer l : s.net().layers()) {
      if (l instanceof Resumable r && l.param().hasDataParam() && l.param().getDataParam().getBackend() == DB.KAFKA) {
        c.addOffsets(PartitionOffset.newBuilder().setTopic(r.readSource()).setPartition(0).setOffset(r.readPosition()));
      }
    }
    Checkpoint checkpoint = c.build();
    Checkpoints.publish(producer, config.getCheckpointTopic(), checkpoint);
    meters.checkpointPublish.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    meters.checkpointSize.record(checkpoint.getSerializedSize());
    iteration = s.iter();
    meters.iteration = iteration;
    LOG.info("{}: published checkpoint at iteration {}", spec.model(), s.iter());
  }
}
