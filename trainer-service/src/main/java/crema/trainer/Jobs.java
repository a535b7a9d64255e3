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
import java.util.LinkedHashSet;
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
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs of the trainer replicas, kept on {@code crema.jobs} (key = job id): a job is recorded
 * there before it is acknowledged, and every state change after it (STOPPED, FINISHED, FAILED), in
 * the partition of its first record.
 *
 * <p><b>Which replica runs a job.</b> Replicas share {@code crema.jobs} through one consumer group
 * ({@code crema.trainer.group-id}); a job runs on the replica that owns its partition. When a
 * partition is assigned to this replica, it reads the partition from its beginning and runs every
 * job there whose newest state is not final, each from its own newest checkpoint; jobs that
 * arrive later in its partitions, by HTTP to any replica or from any Kafka client, are started as
 * they come. When a partition is taken away (a rebalance, this replica stopping), its jobs stop
 * after their current iteration and snapshot before the partition moves on (the rebalance waits
 * for the listener), unrecorded, so the next owner resumes them; a replica that dies loses its
 * partitions after {@code crema.trainer.session-timeout-ms} and its jobs resume elsewhere from
 * their newest checkpoints. Kafka's group protocol is the only coordination.
 *
 * <p>Up to {@code crema.trainer.max-concurrent-jobs} run at once here, the others queued in the
 * order they came; a job whose topics hold no records yet waits (WAITING, saying for what) without
 * holding up the ones behind it.
 *
 * <p>Every replica also reads all of {@code crema.jobs} (no group) to list every job: one it runs
 * shows its progress, another one its newest recorded state (QUEUED until it ends).
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
  /** Every job known: those run here, and the others as crema.jobs tells them. */
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  /** The crema.jobs partition of each job's records. */
  private final Map<String, Integer> partitionOf = new HashMap<>();
  /** The partitions of crema.jobs this replica owns, each with the jobs it runs from there. */
  private final Map<Integer, Set<String>> owned = new HashMap<>();
  private final ExecutorService runner;
  private final ScheduledExecutorService waiting =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "crema-trainer-waiting"));
  private Thread owner;
  private volatile boolean following = true;

  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  public Jobs(KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config, MeterRegistry meters) {
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    this.meters = meters;
    this.runner = Executors.newFixedThreadPool(Math.max(1, config.getMaxConcurrentJobs()),
        r -> daemon(r, "crema-trainer-jobs"));
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
    owner = daemon(this::own, "crema-trainer-jobs-owner");
    owner.start();
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
          parse(r).ifPresent(j -> {
            placed(j.getId(), r.partition());
            replayed.merge(j.getId(), j, (a, b) -> b.toBuilder().setSubmittedMs(a.getSubmittedMs()).build());
          });
        }
      }
      replay(replayed.values());
      while (following) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          parse(r).ifPresent(j -> {
            placed(j.getId(), r.partition());
            onRecord(j);
          });
        }
      }
    } catch (RuntimeException e) {
      LOG.error("jobs topic: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Where a job's records are: the partition of its first. */
  private synchronized void placed(String id, int partition) {
    partitionOf.putIfAbsent(id, partition);
  }

  /**
   * Lists the jobs the topic holds as they stand: ended ones as they ended (with the iteration
   * their checkpoints reached), the others queued until a replica (maybe this one) runs them.
   */
  private void replay(Collection<crema.proto.Job> replayed) {
    if (replayed.isEmpty()) {
      return;
    }
    Map<String, Integer> reached = new HashMap<>();
    if (replayed.stream().anyMatch(j -> FINAL.contains(j.getState()))) {
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
    }
    for (crema.proto.Job j : replayed) {
      synchronized (this) {
        Job known = jobs.get(j.getId());
        if (known != null && known.local()) {
          continue;
        }
        if (FINAL.contains(j.getState())) {
          jobs.put(j.getId(), Job.ended(j.getId(), spec(j), Job.State.valueOf(j.getState()), j.getMessage(),
              reached.getOrDefault(j.getId(), 0)));
        } else {
          jobs.putIfAbsent(j.getId(), Job.ended(j.getId(), spec(j), Job.State.QUEUED, "", 0));
        }
      }
    }
  }

  /** A record after the replay: a new job is listed, an end is shown (unless this replica runs it). */
  private synchronized void onRecord(crema.proto.Job j) {
    Job known = jobs.get(j.getId());
    if (known != null && known.local() && known.state() != Job.State.STOPPED) {
      return;
    }
    if (FINAL.contains(j.getState())) {
      jobs.put(j.getId(), Job.ended(j.getId(), spec(j), Job.State.valueOf(j.getState()), j.getMessage(),
          known == null ? 0 : known.iteration()));
    } else if (known == null) {
      jobs.put(j.getId(), Job.ended(j.getId(), spec(j), Job.State.QUEUED, "", 0));
    }
  }

  /**
   * The replica's share of the jobs: a member of the trainer group on crema.jobs, running the
   * unfinished jobs of the partitions assigned to it (see the class comment).
   */
  private void own() {
    String topic = config.getJobsTopic();
    int session = (int) Math.max(6000, config.getSessionTimeoutMs());
    Map<String, Object> group = Map.of(
        ConsumerConfig.GROUP_ID_CONFIG, config.getGroupId(),
        // Moves only the partitions that must move: a replica joining does not stop every job.
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName(),
        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, session,
        ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(500, session / 5),
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
    KafkaConsumer<String, byte[]> c = clients.consumer("crema-trainer-replica", group);
    try {
      topicsReady.join();
      // Per newly assigned partition: its end when assigned, and its jobs' newest states read so far.
      Map<TopicPartition, Long> catchingUp = new HashMap<>();
      Map<Integer, Map<String, crema.proto.Job>> newest = new HashMap<>();
      c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
          if (parts.isEmpty()) {
            return;
          }
          LOG.info("jobs: this trainer runs the jobs of {} partition(s) {} of {}", parts.size(),
              parts.stream().map(TopicPartition::partition).sorted().toList(), topic);
          c.seekToBeginning(parts);
          Map<TopicPartition, Long> end = c.endOffsets(parts);
          for (TopicPartition tp : parts) {
            synchronized (Jobs.this) {
              owned.put(tp.partition(), new LinkedHashSet<>());
            }
            catchingUp.put(tp, end.get(tp));
            newest.put(tp.partition(), new LinkedHashMap<>());
          }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
          release(parts, catchingUp, newest);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
          release(parts, catchingUp, newest);
        }
      });
      while (following) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          parse(r).ifPresent(j -> {
            placed(j.getId(), r.partition());
            if (catchingUp.containsKey(tp)) {
              newest.get(r.partition()).merge(j.getId(), j, (a, b) -> b);
            } else {
              onOwnedRecord(j, r.partition());
            }
          });
        }
        for (var it = catchingUp.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          if (c.position(e.getKey()) >= e.getValue()) {
            it.remove();
            for (crema.proto.Job j : newest.remove(e.getKey().partition()).values()) {
              if (!FINAL.contains(j.getState())) {
                runHere(j, e.getKey().partition());
              }
            }
          }
        }
      }
      // Stopping: this replica's jobs snapshot and stop before it leaves the group on close (whose
      // own call of the listener then finds nothing left to stop).
      release(c.assignment(), catchingUp, newest);
    } catch (RuntimeException e) {
      if (following) {
        LOG.error("jobs topic (trainer group {}): {}", config.getGroupId(), e.getMessage());
      }
    } finally {
      // Leaving the group hands the partitions on at once; with Kafka gone, stopping takes no longer than this.
      c.close(CloseOptions.timeout(Duration.ofSeconds(10)));
    }
  }

  /**
   * Partitions taken from this replica: their jobs stop after the current iteration and snapshot
   * (unrecorded: they are not over), and this returns once they have, so that the rebalance hands
   * the partitions on only then.
   */
  private void release(Collection<TopicPartition> parts, Map<TopicPartition, Long> catchingUp,
      Map<Integer, Map<String, crema.proto.Job>> newest) {
    List<Job> stopping = new ArrayList<>();
    synchronized (this) {
      for (TopicPartition tp : parts) {
        catchingUp.remove(tp);
        newest.remove(tp.partition());
        for (String id : owned.getOrDefault(tp.partition(), Set.of())) {
          Job j = jobs.get(id);
          if (j != null && j.local() && !FINAL.contains(j.state().name())) {
            j.stop();
            stopping.add(j);
          }
        }
        owned.remove(tp.partition());
      }
    }
    if (!parts.isEmpty()) {
      LOG.info("jobs: partition(s) {} of {} move to another trainer; stopping {} job(s) here",
          parts.stream().map(TopicPartition::partition).sorted().toList(), config.getJobsTopic(), stopping.size());
    }
    for (Job j : stopping) {
      if (!j.awaitIdle(HANDOVER_MS)) {
        LOG.warn("{}: job {} did not stop within {} s; its partition moves on", j.spec().model(), j.id(),
            HANDOVER_MS / 1000);
      }
      synchronized (this) {
        if (jobs.get(j.id()) == j && j.state() == Job.State.STOPPED) {
          // Run elsewhere from now on: listed as the topic tells it.
          jobs.put(j.id(), Job.ended(j.id(), j.spec(), Job.State.QUEUED, "", j.iteration()));
        }
      }
    }
  }

  /** How long a partition taken away waits for its jobs to snapshot and stop. */
  static final long HANDOVER_MS = 120_000;

  /** A record in a partition this replica owns, after the partition's replay. */
  private void onOwnedRecord(crema.proto.Job j, int partition) {
    if (j.getState().isEmpty() || j.getState().equals("SUBMITTED")) {
      runHere(j, partition);
    } else if (j.getState().equals("STOPPED")) {
      // A stop sent through another replica, or by another client.
      get(j.getId()).filter(Job::local).ifPresent(Job::stop);
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

  /** Runs a job of an owned partition here, unless it runs here already or has ended here. */
  private synchronized void runHere(crema.proto.Job j, int partition) {
    Set<String> mine = owned.get(partition);
    Job known = jobs.get(j.getId());
    if (mine == null || (known != null && known.local() && known.state() != Job.State.STOPPED)) {
      return;
    }
    mine.add(j.getId());
    try {
      JobPolicy.check(spec(j), config.getMaxPrototxtBytes());
    } catch (RuntimeException e) {
      // A job record from any Kafka client meets the same rules as one sent over HTTP.
      LOG.error("{}: job {} on {} refused: {}", j.getModel(), j.getId(), config.getJobsTopic(), e.getMessage());
      record(j, "FAILED", "refused: " + e.getMessage());
      jobs.put(j.getId(), Job.ended(j.getId(), spec(j), Job.State.FAILED, "refused: " + e.getMessage(), 0));
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
    int partition = send(Job.record(id, spec).toBuilder().setSubmittedMs(System.currentTimeMillis())
        .setState("SUBMITTED").build());
    partitionOf.putIfAbsent(id, partition);
    // The replica that owns its partition (maybe this one) runs it; listed here meanwhile.
    return jobs.computeIfAbsent(id, k -> Job.ended(id, spec, Job.State.QUEUED, "", 0));
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
      if (j.local()) {
        j.stop();
      }
      // Otherwise the replica that runs it stops it when the record reaches it.
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

  /** Records {@code j} in its job's partition (by key for a new one); returns the partition. */
  private int send(crema.proto.Job j) {
    Integer partition;
    synchronized (this) {
      partition = partitionOf.get(j.getId());
    }
    try {
      return producer.send(new ProducerRecord<>(config.getJobsTopic(), partition, j.getId(), j.toByteArray()))
          .get(60, TimeUnit.SECONDS).partition();
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

  /**
   * Stops: leaving the trainer group stops this replica's jobs (each snapshots) before their
   * partitions move to the other replicas, or wait for this one's restart.
   */
  @PreDestroy
  void close() {
    following = false;
    waiting.shutdownNow();
    if (topicsReady != null) {
      // Kafka never answered: the threads waiting for the topics stop waiting.
      topicsReady.cancel(false);
    }
    all().stream().filter(Job::local).forEach(Job::stop);
    Thread t = owner;
    if (t != null) {
      try {
        t.join(HANDOVER_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    runner.shutdown();
  }
}
