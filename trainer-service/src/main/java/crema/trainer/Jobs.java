package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicLog;
import crema.bus.TopicSetup;
import crema.engine.data.DatumSources;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs of this trainer, kept on {@code crema.jobs} (key = job id): a job is recorded there
 * before it is acknowledged, and every state change after it (STOPPED, FINISHED, FAILED). A
 * restarted trainer replays the topic and resumes every job whose newest state is not final, each
 * from its own newest checkpoint; jobs that arrive meanwhile, by HTTP or from any Kafka client,
 * are started as they come. Runs go one at a time in the order submitted; a job whose topics hold
 * no records yet waits (WAITING, saying for what) without holding up the ones behind it.
 */
// Created at start-up (not on first request) so unfinished jobs resume at once.
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.trainer", notEquals = "false")
@Context
public class Jobs {
  private static final Logger LOG = LoggerFactory.getLogger(Jobs.class);
  static final Set<String> FINAL = Set.of("STOPPED", "FINISHED", "FAILED");

  private final KafkaClients clients;
  private final KafkaProducer<String, byte[]> producer;
  private final TrainerConfig config;
  private final MeterRegistry meters;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> daemon(r, "crema-trainer-jobs"));
  private final ScheduledExecutorService waiting =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "crema-trainer-waiting"));
  private volatile boolean following = true;

  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  public Jobs(KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config, MeterRegistry meters) {
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    this.meters = meters;
    // Data layers with `backend: KAFKA` read the topic their `source` names.
    DatumSources.register(DB.KAFKA, p -> new KafkaDatumCursor(clients, p.getSource(), config.getDataWaitMs(), meters));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** The trainer's topics, created with Crema's settings (kept forever) before any is read or written. */
  private CompletableFuture<List<String>> topicsReady;

  @PostConstruct
  void followJobsTopic() {
    topicsReady = topics.ensureAtStart(TopicKind.JOBS.named(config.getJobsTopic()),
        TopicKind.CHECKPOINTS.named(config.getCheckpointTopic()),
        TopicKind.TRAIN_EVENTS.named(config.getEventsTopic()));
    daemon(this::follow, "crema-trainer-jobs-topic").start();
  }

  private void follow() {
    String topic = config.getJobsTopic();
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-trainer-jobs")) {
      topicsReady.join();
      List<TopicPartition> tps = TopicLog.assignFromBeginning(c, topic, () -> following);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      // Replay: each job's spec and its newest state.
      Map<String, crema.proto.Job> replayed = new LinkedHashMap<>();
      while (following && tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          parse(r).ifPresent(j -> replayed.merge(j.getId(), j, (a, b) -> b.toBuilder()
              .setSubmittedMs(a.getSubmittedMs()).build()));
        }
      }
      replay(replayed.values());
      while (following) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          parse(r).ifPresent(this::onRecord);
        }
      }
    } catch (RuntimeException e) {
      LOG.error("jobs topic: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Takes over the jobs the topic holds: ended ones are listed as they ended, the others resume
   * (or, when their final checkpoint is out already, are recorded FINISHED).
   */
  private void replay(Collection<crema.proto.Job> replayed) {
    if (replayed.isEmpty()) {
      return;
    }
    Map<String, Integer> reached = new HashMap<>();
    TopicLog.readToEnd(clients, "crema-trainer-resume", config.getCheckpointTopic(), Duration.ofSeconds(120), r -> {
      try {
        Checkpoint cp = r.value() == null ? null : Checkpoint.parseFrom(r.value());
        // A part is not a checkpoint: a torn write's iteration was never reached.
        if (cp != null && !cp.hasPart()) {
          reached.merge(cp.getRun(), cp.getIteration(), Math::max);
        }
      } catch (InvalidProtocolBufferException e) {
        // not a checkpoint
      }
    });
    for (crema.proto.Job j : replayed) {
      if (FINAL.contains(j.getState())) {
        synchronized (this) {
          jobs.putIfAbsent(j.getId(), Job.ended(j.getId(), spec(j), Job.State.valueOf(j.getState()), j.getMessage(),
              reached.getOrDefault(j.getId(), 0)));
        }
        continue;
      }
      int maxIter;
      try {
        maxIter = Prototxt.parseSolver(j.getSolverPrototxt(), j.getModel()).getMaxIter();
      } catch (RuntimeException e) {
        continue;
      }
      if (reached.getOrDefault(j.getId(), -1) >= maxIter) {
        // Its final checkpoint is out; only the FINISHED record was lost.
        record(j, "FINISHED", "");
      } else {
        startIfNew(j);
      }
    }
  }

  private void onRecord(crema.proto.Job j) {
    if (j.getState().isEmpty() || j.getState().equals("SUBMITTED")) {
      startIfNew(j);
    } else if (j.getState().equals("STOPPED")) {
      // A stop sent by another client, or by another replica.
      get(j.getId()).ifPresent(Job::stop);
    }
  }

  /**
   * A job record. One sent by another Kafka client without an id is named by its place in the log,
   * which stays the same on every replay.
   */
  private static Optional<crema.proto.Job> parse(ConsumerRecord<String, byte[]> r) {
    try {
      crema.proto.Job j = r.value() == null ? null : crema.proto.Job.parseFrom(r.value());
      if (j == null || j.getModel().isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(j.getId().isEmpty()
          ? j.toBuilder().setId("job-" + r.partition() + "-" + r.offset()).build() : j);
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }

  private static JobSpec spec(crema.proto.Job j) {
    return new JobSpec(j.getModel(), j.getSolverPrototxt(), j.getNetPrototxt(),
        j.getDeployPrototxt().isEmpty() ? null : j.getDeployPrototxt(),
        j.getLabelNamesCount() == 0 ? null : j.getLabelNamesList(),
        j.getResumeFrom().isEmpty() ? null : j.getResumeFrom());
  }

  private synchronized void startIfNew(crema.proto.Job j) {
    if (jobs.containsKey(j.getId())) {
      return;
    }
    try {
      JobPolicy.check(spec(j), config.getMaxPrototxtBytes());
    } catch (RuntimeException e) {
      // A job record from any Kafka client meets the same rules as one sent over HTTP.
      LOG.error("{}: job {} on {} refused: {}", j.getModel(), j.getId(), config.getJobsTopic(), e.getMessage());
      record(j, "FAILED", "refused: " + e.getMessage());
      return;
    }
    start(j.getId(), spec(j));
  }

  /**
   * Checks a job, records it on the jobs topic (waiting for the broker's acknowledgement) and
   * queues it: once this returns, the job runs, whatever happens to this process.
   */
  public synchronized Job submit(JobSpec spec) {
    if (spec.model() == null || !spec.model().matches("[A-Za-z0-9_.-]{1,100}")) {
      throw new IllegalArgumentException("model must be 1 to 100 letters, digits, '_', '.' or '-'");
    }
    if (spec.solver() == null || spec.net() == null) {
      throw new IllegalArgumentException("a job needs the solver and net prototxt texts");
    }
    JobPolicy.check(spec, config.getMaxPrototxtBytes());
    checkSourcesExist(Prototxt.parseNet(spec.net(), spec.model() + " net"));
    if (spec.resumeFrom() != null && !spec.resumeFrom().isBlank()
        && Checkpoints.newest(clients, config.getCheckpointTopic(), spec.resumeFrom()).isEmpty()) {
      throw new IllegalArgumentException("resume_from: run '" + spec.resumeFrom() + "' has no checkpoint on "
          + config.getCheckpointTopic());
    }
    try {
      topicsReady.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating the trainer's topics");
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the trainer's topics are not ready (is Kafka up?): " + e.getMessage());
    }
    String id = UUID.randomUUID().toString();
    send(Job.record(id, spec).toBuilder().setSubmittedMs(System.currentTimeMillis()).setState("SUBMITTED").build());
    // The follower sees the record come back and skips it: this lock is held until the job is known.
    return start(id, spec);
  }

  /** A job naming a topic that does not exist is refused, naming the layer and the topic. */
  private void checkSourcesExist(NetParameter net) {
    Set<String> topics;
    try (var admin = clients.admin("crema-trainer-submit")) {
      topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing topics");
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot list the topics to check the job's Data layers: " + e.getMessage());
    }
    for (LayerParameter l : net.getLayerList()) {
      if (l.hasDataParam() && l.getDataParam().getBackend() == DB.KAFKA && !topics.contains(l.getDataParam().getSource())) {
        throw new IllegalArgumentException("layer '" + l.getName() + "'" + phases(l) + ": data_param.source topic '"
            + l.getDataParam().getSource() + "' does not exist (ingest a dataset into it first)");
      }
    }
  }

  static String phases(LayerParameter l) {
    List<String> p = l.getIncludeList().stream().filter(r -> r.hasPhase()).map(r -> r.getPhase().name()).toList();
    return p.isEmpty() ? "" : " (" + String.join(", ", p) + ")";
  }

  private synchronized Job start(String id, JobSpec spec) {
    Job job = new Job(id, spec, clients, producer, config, meters, new Job.Host() {
      @Override
      public void finished(Job j, String state, String message) {
        // A run cut short by this process stopping is not over: a restart resumes it.
        if (following) {
          record(j.record(), state, message);
        }
      }

      @Override
      public void retryLater(Job j) {
        if (following) {
          waiting.schedule(() -> runner.submit(j), 1, TimeUnit.SECONDS);
        }
      }
    });
    jobs.put(id, job);
    runner.submit(job);
    return job;
  }

  /** Records a stop (so that a restart does not resume the job), then asks the job to stop. */
  public Optional<Job> stop(String id) {
    Optional<Job> job = get(id);
    job.filter(j -> !FINAL.contains(j.state().name())).ifPresent(j -> {
      record(j.record(), "STOPPED", "stopped on request");
      j.stop();
    });
    return job;
  }

  private void record(crema.proto.Job j, String state, String message) {
    try {
      send(j.toBuilder().setState(state).setMessage(message).setTimeMs(System.currentTimeMillis()).build());
    } catch (IllegalStateException e) {
      LOG.error("{}: job {} is {} but that could not be recorded: {}", j.getModel(), j.getId(), state, e.getMessage());
    }
  }

  private void send(crema.proto.Job j) {
    try {
      producer.send(new ProducerRecord<>(config.getJobsTopic(), j.getId(), j.toByteArray())).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recording the job");
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the job could not be recorded on " + config.getJobsTopic() + ": "
          + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
    }
  }

  public synchronized List<Job> all() {
    return new ArrayList<>(jobs.values());
  }

  public synchronized Optional<Job> get(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  @PreDestroy
  void close() {
    following = false;
    waiting.shutdownNow();
    all().forEach(Job::stop);
    runner.shutdown();
  }
}
