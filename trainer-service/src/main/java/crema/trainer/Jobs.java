package crema.trainer;

import crema.bus.KafkaClients;
import crema.engine.data.DatumSources;
import caffe.Caffe.DataParameter.DB;
import jakarta.annotation.PreDestroy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The jobs of this trainer. They run one at a time, in the order submitted: the engine's random
 * number generator is process-wide, and one run at a time keeps each run reproducible for its seed.
 */
// Created at start-up (not on first request) so unfinished jobs resume at once.
// Off when crema up runs this service beside the others in one process and this context is another's.
@io.micronaut.context.annotation.Requires(property = "crema.services.trainer", notEquals = "false")
@io.micronaut.context.annotation.Context
public class Jobs {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Jobs.class);
  private final KafkaClients clients;
  private final KafkaProducer<String, byte[]> producer;
  private final TrainerConfig config;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "crema-trainer-jobs");
    t.setDaemon(true);
    return t;
  });

  private final io.micrometer.core.instrument.MeterRegistry meters;
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  crema.bus.TopicSetup topics;

  public Jobs(KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config,
      io.micrometer.core.instrument.MeterRegistry meters) {
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    this.meters = meters;
    // Data layers with `backend: KAFKA` read the topic their `source` names.
    DatumSources.register(DB.KAFKA, p -> new KafkaDatumCursor(clients, p.getSource(), config.getDataWaitMs(), meters));
  }

  /**
   * Follows the jobs topic. On start it reads it to its end and resumes every job whose newest
   * checkpoint is not its last iteration (from that checkpoint: weights, solver state, topic
   * offsets); after that, every job record that arrives (from any Kafka client) is started.
   */
  @jakarta.annotation.PostConstruct
  void followJobsTopic() {
    Thread t = new Thread(this::follow, "crema-trainer-jobs-topic");
    t.setDaemon(true);
    t.start();
  }

  private void follow() {
    String topic = config.getJobsTopic();
    try (var c = clients.consumer("crema-trainer-jobs")) {
      // The trainer's topics, created with Crema's settings (kept forever) before any is read or written.
      topics.ensureAtStart(crema.bus.TopicKind.JOBS.named(topic),
          crema.bus.TopicKind.CHECKPOINTS.named(config.getCheckpointTopic()),
          crema.bus.TopicKind.TRAIN_EVENTS.named(config.getEventsTopic())).join();
      var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
      while (following) {
        var parts = c.partitionsFor(topic, java.time.Duration.ofSeconds(5));
        if (parts != null && !parts.isEmpty()) {
          break;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
      }
      c.assign(java.util.List.of(tp));
      c.seekToBeginning(java.util.List.of(tp));
      long end = c.endOffsets(java.util.List.of(tp)).get(tp);
      Map<String, crema.proto.Job> latest = new LinkedHashMap<>();
      while (following && c.position(tp) < end) {
        for (var r : c.poll(java.time.Duration.ofMillis(200))) {
          parse(r.value()).ifPresent(j -> latest.put(j.getModel(), j));
        }
      }
      for (crema.proto.Job j : latest.values()) {
        if (unfinished(j)) {
          startIfNew(j);
        }
      }
      while (following) {
        for (var r : c.poll(java.time.Duration.ofMillis(200))) {
          parse(r.value()).ifPresent(this::startIfNew);
        }
      }
    } catch (RuntimeException e) {
      LOG.error("jobs topic: {}", e.getMessage());
    }
  }

  private static Optional<crema.proto.Job> parse(byte[] value) {
    try {
      crema.proto.Job j = crema.proto.Job.parseFrom(value);
      return j.getModel().isEmpty() ? Optional.empty() : Optional.of(j);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }

  private static JobSpec spec(crema.proto.Job j) {
    return new JobSpec(j.getModel(), j.getSolverPrototxt(), j.getNetPrototxt(),
        j.getDeployPrototxt().isEmpty() ? null : j.getDeployPrototxt(), j.getLabelNamesList());
  }

  private boolean unfinished(crema.proto.Job j) {
    int maxIter;
    try {
      maxIter = crema.engine.io.Prototxt.parseSolver(j.getSolverPrototxt(), j.getModel()).getMaxIter();
    } catch (RuntimeException e) {
      return false;
    }
    var newest = Checkpoints.newest(clients, config.getCheckpointTopic(), j.getModel());
    return newest.isEmpty() || newest.get().getIteration() < maxIter;
  }

  private synchronized void startIfNew(crema.proto.Job j) {
    String id = j.getId().isEmpty() ? UUID.randomUUID().toString() : j.getId();
    if (!jobs.containsKey(id)) {
      try {
        JobPolicy.check(spec(j), config.getMaxPrototxtBytes());
      } catch (RuntimeException e) {
        // A job record from any Kafka client meets the same rules as one sent over HTTP.
        LOG.error("{}: job {} on {} refused: {}", j.getModel(), id, config.getJobsTopic(), e.getMessage());
        return;
      }
      start(id, spec(j));
    }
  }

  /** Records the job on the jobs topic and queues it; the prototxt texts are checked when it starts. */
  public synchronized Job submit(JobSpec spec) {
    if (spec.model() == null || !spec.model().matches("[A-Za-z0-9_.-]{1,100}")) {
      throw new IllegalArgumentException("model must be 1 to 100 letters, digits, '_', '.' or '-'");
    }
    if (spec.solver() == null || spec.net() == null) {
      throw new IllegalArgumentException("a job needs the solver and net prototxt texts");
    }
    JobPolicy.check(spec, config.getMaxPrototxtBytes());
    String id = UUID.randomUUID().toString();
    // Started here, so the topic's copy of the record is skipped when it comes back.
    Job job = start(id, spec);
    crema.proto.Job.Builder record = crema.proto.Job.newBuilder().setId(id).setModel(spec.model())
        .setSolverPrototxt(spec.solver()).setNetPrototxt(spec.net()).setSubmittedMs(System.currentTimeMillis());
    if (spec.deploy() != null) {
      record.setDeployPrototxt(spec.deploy());
    }
    if (spec.labels() != null) {
      record.addAllLabelNames(spec.labels());
    }
    try {
      producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(config.getJobsTopic(), spec.model(),
          record.build().toByteArray())).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recording the job");
    } catch (java.util.concurrent.ExecutionException e) {
      job.stop();
      throw new IllegalStateException("the job could not be recorded on " + config.getJobsTopic() + ": "
          + e.getCause().getMessage());
    }
    return job;
  }

  private synchronized Job start(String id, JobSpec spec) {
    Job job = new Job(id, spec, clients, producer, config, meters);
    jobs.put(job.id(), job);
    runner.submit(job);
    return job;
  }

  public synchronized List<Job> all() {
    return new ArrayList<>(jobs.values());
  }

  public synchronized Optional<Job> get(String id) {
    return Optional.ofNullable(jobs.get(id));
  }

  private volatile boolean following = true;

  @PreDestroy
  void close() {
    following = false;
    all().forEach(Job::stop);
    runner.shutdown();
  }
}
