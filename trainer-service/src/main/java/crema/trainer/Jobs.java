package crema.trainer;

import crema.bus.KafkaClients;
import crema.engine.data.DatumSources;
import caffe.Caffe.DataParameter.DB;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
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
@Singleton
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

  /** Queues a job; the prototxt texts are checked when it starts. */
  public synchronized Job submit(JobSpec spec) {
    if (spec.model() == null || !spec.model().matches("[A-Za-z0-9_.-]{1,100}")) {
      throw new IllegalArgumentException("model must be 1 to 100 letters, digits, '_', '.' or '-'");
    }
    if (spec.solver() == null || spec.net() == null) {
      throw new IllegalArgumentException("a job needs the solver and net prototxt texts");
    }
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
