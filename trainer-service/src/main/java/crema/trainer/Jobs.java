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
@io.micronaut.context.annotation.Context
public class Jobs {
  private final KafkaClients clients;
  private final KafkaProducer<String, byte[]> producer;
  private final TrainerConfig config;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "crema-trainer-jobs");
    t.setDaemon(true);
    return t;
  });

  public Jobs(KafkaClients clients, KafkaProducer<String, byte[]> producer, TrainerConfig config) {
    this.clients = clients;
    this.producer = producer;
    this.config = config;
    // Data layers with `backend: KAFKA` read the topic their `source` names.
    DatumSources.register(DB.KAFKA, p -> new KafkaDatumCursor(clients, p.getSource(), config.getDataWaitMs()));
  }

  /**
   * On start, every job on the jobs topic whose newest checkpoint is not its last iteration runs
   * again: it resumes from that checkpoint (weights, solver state, topic offsets).
   */
  @jakarta.annotation.PostConstruct
  void resumeUnfinished() {
    Map<String, crema.proto.Job> latest = new LinkedHashMap<>();
    try (var c = clients.consumer("crema-trainer-jobs")) {
      var parts = c.partitionsFor(config.getJobsTopic(), java.time.Duration.ofSeconds(10));
      if (parts == null || parts.isEmpty()) {
        return;
      }
      var tps = parts.stream().map(p -> new org.apache.kafka.common.TopicPartition(config.getJobsTopic(), p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      var end = c.endOffsets(tps);
      long deadline = System.currentTimeMillis() + 60_000;
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
        for (var r : c.poll(java.time.Duration.ofMillis(200))) {
          try {
            latest.put(r.key(), crema.proto.Job.parseFrom(r.value()));
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // Not a job record; nothing to resume.
          }
        }
      }
    }
    for (crema.proto.Job j : latest.values()) {
      JobSpec spec = new JobSpec(j.getModel(), j.getSolverPrototxt(), j.getNetPrototxt(),
          j.getDeployPrototxt().isEmpty() ? null : j.getDeployPrototxt(), j.getLabelNamesList());
      int maxIter;
      try {
        maxIter = crema.engine.io.Prototxt.parseSolver(spec.solver(), spec.model()).getMaxIter();
      } catch (RuntimeException e) {
        continue;
      }
      var newest = Checkpoints.newest(clients, config.getCheckpointTopic(), spec.model());
      if (newest.isEmpty() || newest.get().getIteration() < maxIter) {
        start(spec);
      }
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
    crema.proto.Job.Builder record = crema.proto.Job.newBuilder().setModel(spec.model())
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
      throw new IllegalStateException("the job could not be recorded on " + config.getJobsTopic() + ": "
          + e.getCause().getMessage());
    }
    return start(spec);
  }

  private synchronized Job start(JobSpec spec) {
    Job job = new Job(UUID.randomUUID().toString(), spec, clients, producer, config);
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

  @PreDestroy
  void close() {
    all().forEach(Job::stop);
    runner.shutdown();
  }
}
