package crema.bus;

import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics a service uses with Crema's settings ({@link TopicKind}) and checks the ones
 * that exist: partitions, replication factor and each config. A difference is logged as one WARN
 * naming the topic, the setting, both values and the command that fixes it; existing topics are
 * altered only with {@code crema.topics.fix=true}, and their partitions and replicas never.
 *
 * <p>Services call {@link #ensureAtStart} for their topics when they start (it retries in the
 * background while Kafka does not answer) and {@link #ensureOnce} before the first write to a topic
 * named at run time ({@code crema.datums.<dataset>.<split>}).
 */
@Singleton
@Requires(beans = KafkaClients.class)
public class TopicSetup {
  private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);
  static final long TIMEOUT_MS = 30_000;
  static final long RETRY_MS = 5_000;

  private final KafkaClients clients;
  private final TopicsConfig config;
  private final Set<String> ensured = ConcurrentHashMap.newKeySet();
  private final List<Thread> retrying = new ArrayList<>();
  private volatile boolean closed;

  public TopicSetup(KafkaClients clients, TopicsConfig config) {
    this.clients = clients;
    this.config = config;
  }

  /**
   * {@link #ensure(Collection)} on a background thread, again every 5 s until Kafka answers; the
   * future completes with the differences found (so a caller that needs the topics can wait on it).
   */
  public CompletableFuture<List<String>> ensureAtStart(TopicSpec... topics) {
    List<TopicSpec> list = List.of(topics);
    CompletableFuture<List<String>> done = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      boolean warned = false;
      while (!closed) {
        try {
          done.complete(ensure(list));
          return;
        } catch (RuntimeException e) {
          if (!warned) {
            LOG.warn("topics {}: {}; trying again every {} s", names(list), e.getMessage(), RETRY_MS / 1000);
            warned = true;
          } else {
            LOG.debug("topics {}: {}", names(list), e.getMessage());
          }
        }
        try {
          Thread.sleep(RETRY_MS);
        } catch (InterruptedException e) {
          break;
        }
      }
      done.cancel(false);
    }, "crema-topics");
    t.setDaemon(true);
    synchronized (retrying) {
      retrying.removeIf(x -> !x.isAlive());
      retrying.add(t);
    }
    t.start();
    return done;
  }

  /**
   * Before a write to {@code topic}: creates or checks it the first time this process writes to
   * it (a known name: {@link TopicKind#of}; other names are left alone). Throws when Kafka does
   * not answer, as the write itself would fail.
   */
  public void ensureOnce(String topic) {
    if (ensured.contains(topic)) {
      return;
    }
    TopicKind kind = TopicKind.of(topic);
    if (kind != null) {
      ensure(List.of(kind.named(topic)));
    }
    ensured.add(topic);
  }

  public List<String> ensure(TopicSpec... topics) {
    return ensure(Arrays.asList(topics));
  }

  /**
   * Creates the missing topics, checks the existing ones and returns one message per difference
   * (each also logged as a WARN). Throws {@link IllegalStateException} when Kafka does not answer.
   */
  public List<String> ensure(Collection<TopicSpec> topics) {
    Map<String, TopicSpec> byName = new LinkedHashMap<>();
    for (TopicSpec t : topics) {
      byName.putIfAbsent(t.name(), t);
    }
    List<String> differences = new ArrayList<>();
    try (Admin admin = clients.admin("crema-topics")) {
      int brokers = get(admin.describeCluster().nodes()).size();
      int rf = config.replicationFactor(brokers);
      int minIsr = config.minInsyncReplicas(rf);
      Set<String> existing = get(admin.listTopics().names());
      List<NewTopic> create = new ArrayList<>();
      for (TopicSpec t : byName.values()) {
        if (!existing.contains(t.name())) {
          create.add(new NewTopic(t.name(), config.partitions(t.kind()), (short) rf).configs(t.kind().configs(minIsr)));
        }
      }
      List<TopicSpec> check = new ArrayList<>();
      var created = create.isEmpty() ? null : admin.createTopics(create).values();
      for (TopicSpec t : byName.values()) {
        if (created == null || !created.containsKey(t.name())) {
          check.add(t);
          continue;
        }
        try {
          get(created.get(t.name()));
          LOG.info("created topic {}: {} partition(s), replication factor {}, {}", t.name(), config.partitions(t.kind()),
              rf, t.kind().configs(minIsr));
        } catch (IllegalStateException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          check.add(t);  // created meanwhile by another service: check it like any existing one
        }
      }
      if (!check.isEmpty()) {
        differences.addAll(check(admin, check, rf, minIsr));
      }
      byName.keySet().forEach(ensured::add);
    } catch (IllegalStateException e) {
      if (e.getCause() instanceof AuthorizationException) {
        // A cluster where services may not create or describe topics: its operators own the settings.
        String m = "topics " + byName.keySet() + ": not authorised to create or check them (" + e.getCause().getMessage()
            + "); Crema relies on the settings listed in README.md (Topics)";
        LOG.warn(m);
        byName.keySet().forEach(ensured::add);
        return List.of(m);
      }
      throw e;
    }
    return differences;
  }

  private List<String> check(Admin admin, List<TopicSpec> topics, int rf, int minIsr) {
    List<String> out = new ArrayList<>();
    Map<String, TopicDescription> described = describe(admin, names(topics));
    List<ConfigResource> resources = topics.stream()
        .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList();
    Map<ConfigResource, Config> configs = get(admin.describeConfigs(resources).all());
    String bootstrap = clients.bootstrapServers();
    for (TopicSpec t : topics) {
      TopicDescription d = described.get(t.name());
      int partitions = d.partitions().size();
      int expected = config.partitions(t.kind());
      // A datum topic of any partition count is read whole (one partition, as before 4, included).
      if (partitions != expected && t.kind() != TopicKind.DATUMS) {
        out.add(warn("topic " + t.name() + ": has " + partitions + " partitions, Crema expects " + expected
            + (t.kind() == TopicKind.JOBS ? " (crema.topics.jobs-partitions: trainer replicas share its partitions,"
                + " so at most " + partitions + " of them run jobs); add partitions with kafka-topics.sh"
                + " --bootstrap-server " + bootstrap + " --alter --topic " + t.name() + " --partitions " + expected
                + " while no job is unfinished (a job's records stay in the partition of its first)"
                : "; recreate it with " + expected + " partition(s)")));
      }
      int replicas = d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
      if (replicas != rf) {
        out.add(warn("topic " + t.name() + ": replication factor is " + replicas + ", Crema expects " + rf
            + " (crema.topics.replication-factor, default min(3, brokers)); change it with"
            + " kafka-reassign-partitions.sh --bootstrap-server " + bootstrap));
      }
      Config actual = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t.name()));
      List<AlterConfigOp> fixes = new ArrayList<>();
      for (Map.Entry<String, String> e : t.kind().configs(minIsr).entrySet()) {
        ConfigEntry entry = actual.get(e.getKey());
        String value = entry == null ? null : entry.value();
        if (e.getValue().equals(value)) {
          continue;
        }
        String what = "topic " + t.name() + ": " + e.getKey() + " is " + TopicKind.explain(e.getKey(), value)
            + ", Crema expects " + TopicKind.explain(e.getKey(), e.getValue());
        if (config.isFix()) {
          fixes.add(new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET));
          out.add(warn(what + "; altering it (crema.topics.fix=true)"));
        } else {
          out.add(warn(what + "; alter it with kafka-configs.sh --bootstrap-server " + bootstrap
              + " --alter --entity-type topics --entity-name " + t.name() + " --add-config " + e.getKey() + "="
              + e.getValue() + " (or start a service with crema.topics.fix=true)"));
        }
      }
      if (!fixes.isEmpty()) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, t.name());
        get(admin.incrementalAlterConfigs(Map.of(r, fixes)).all());
        LOG.info("topic {}: altered {}", t.name(), fixes.stream().map(f -> f.configEntry().name()).toList());
      }
    }
    return out;
  }

  /**
   * The topics' descriptions. A topic created a moment ago (by another service, racing this one)
   * may be unknown to the broker answering for a little while: asked again for up to 10 s.
   */
  private Map<String, TopicDescription> describe(Admin admin, List<String> names) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      try {
        return get(admin.describeTopics(names).allTopicNames());
      } catch (IllegalStateException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.currentTimeMillis() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while talking to Kafka", e);
      }
    }
  }

  private static String warn(String message) {
    LOG.warn(message);
    return message;
  }

  private static List<String> names(Collection<TopicSpec> topics) {
    return topics.stream().map(TopicSpec::name).toList();
  }

  private <T> T get(KafkaFuture<T> f) {
    try {
      return f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException("Kafka at " + clients.bootstrapServers() + ": " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka at " + clients.bootstrapServers() + " did not answer within "
          + TIMEOUT_MS / 1000 + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while talking to Kafka", e);
    }
  }

  /** Stops the background retries of {@link #ensureAtStart}. */
  @PreDestroy
  public void close() {
    closed = true;
    synchronized (retrying) {
      retrying.forEach(Thread::interrupt);
      retrying.clear();
    }
  }
}
