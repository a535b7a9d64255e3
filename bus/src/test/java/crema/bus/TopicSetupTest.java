package crema.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Topics on a real broker whose defaults delete records after one second: the ones Crema creates
 * keep theirs, a topic left to the broker's defaults loses them, existing topics that differ are
 * reported (and altered only when asked).
 */
class TopicSetupTest {
  private static EmbeddedBroker broker;
  private static KafkaClients clients;
  private static Admin admin;

  @BeforeAll
  static void start() {
    // Retention checked every second from the start, records older than a second deleted.
    broker = EmbeddedBroker.start(Map.of("log.retention.ms", "1000", "log.retention.check.interval.ms", "1000",
        "log.initial.task.delay.ms", "0", "log.roll.ms", "500"));
    clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    admin = clients.admin("test");
  }

  @AfterAll
  static void stop() {
    admin.close();
    broker.close();
  }

  static List<TopicSpec> everyKind() {
    List<TopicSpec> all = new ArrayList<>();
    for (TopicKind k : TopicKind.values()) {
      all.add(k == TopicKind.DATUMS ? TopicKind.datums("iris", "train") : k.spec());
    }
    return all;
  }

  /** The earliest offsets of every partition of {@code topic}, added up (0 while none is deleted). */
  static long earliest(String topic) throws Exception {
    return offsets(topic, OffsetSpec.earliest());
  }

  /** The end offsets of every partition of {@code topic}, added up: the records it ever had. */
  static long latest(String topic) throws Exception {
    return offsets(topic, OffsetSpec.latest());
  }

  static long offsets(String topic, OffsetSpec spec) throws Exception {
    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    Map<TopicPartition, OffsetSpec> request = new java.util.HashMap<>();
    d.partitions().forEach(p -> request.put(new TopicPartition(topic, p.partition()), spec));
    long sum = 0;
    for (var r : admin.listOffsets(request).all().get().values()) {
      sum += r.offset();
    }
    return sum;
  }

  static Config configOf(String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return FreshTopics.known(() -> admin.describeConfigs(List.of(r)).all().get().get(r));
  }

  @Test
  void cremaTopicsKeepTheirRecordsWhereTheBrokersDefaultsDeleteThem() throws Exception {
    List<TopicSpec> crema = everyKind();
    assertEquals(List.of(), new TopicSetup(clients, new TopicsConfig()).ensure(crema));
    // The control: a topic left to the broker's defaults, as every topic was before.
    admin.createTopics(List.of(new NewTopic("control", 1, (short) 1))).all().get();
    int n = 5;
    try (KafkaProducer<String, byte[]> p = clients.producer("test")) {
      for (int i = 0; i < n; i++) {
        for (TopicSpec t : crema) {
          // Partition 0 of each, where the offsets below are read (datums and jobs have several).
          p.send(new ProducerRecord<>(t.name(), 0, "k" + i, new byte[] {(byte) i}));
        }
        p.send(new ProducerRecord<>("control", "k" + i, new byte[] {(byte) i})).get();
      }
      p.flush();
    }
    assertEquals(n, latest("control"));
    long deadline = System.currentTimeMillis() + 60_000;
    while (earliest("control") < n && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
    }
    assertEquals(n, earliest("control"), "the broker's retention deleted the control topic's records");
    // Two more retention checks, then every record of Crema's topics is still there.
    Thread.sleep(2500);
    for (TopicSpec t : crema) {
      assertEquals(0, earliest(t.name()), t.name() + " keeps its first record");
      assertEquals(n, latest(t.name()), t.name() + " keeps every record");
    }
  }

  @Test
  void createdTopicsHaveExactlyTheDeclaredSettings() throws Exception {
    List<TopicSpec> topics = List.of(TopicKind.CHECKPOINTS.named("c.checkpoints"), TopicKind.RAW.named("c.raw"),
        TopicKind.DATASETS.named("c.datasets"), TopicKind.datums("c", "test"));
    TopicSetup setup = new TopicSetup(clients, new TopicsConfig());
    assertEquals(List.of(), setup.ensure(topics));
    Map<String, TopicDescription> described = described(topics.stream().map(TopicSpec::name).toArray(String[]::new));
    for (TopicSpec t : topics) {
      assertEquals(t.kind().partitions(), described.get(t.name()).partitions().size(), t.name());
      assertEquals(1, described.get(t.name()).partitions().get(0).replicas().size(), t.name());
      Config c = configOf(t.name());
      for (var e : t.kind().configs(1).entrySet()) {
        assertEquals(e.getValue(), c.get(e.getKey()).value(), t.name() + " " + e.getKey());
      }
    }
    assertEquals("-1", configOf("c.checkpoints").get("retention.ms").value());
    assertEquals("1048588", configOf("c.checkpoints").get("max.message.bytes").value(), "Kafka's default");
    assertEquals("604800000", configOf("c.raw").get("retention.ms").value());
    assertEquals("compact", configOf("c.datasets").get("cleanup.policy").value());
    // Checked again: nothing to report.
    assertEquals(List.of(), setup.ensure(topics));
  }

  /** The topics as described, once the broker knows every one just created (metadata lags a little). */
  private static Map<String, TopicDescription> described(String... names) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (true) {
      try {
        return admin.describeTopics(List.of(names)).allTopicNames().get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
            || System.currentTimeMillis() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  @Test
  void datumAndJobTopicsGetTheirConfiguredPartitionsAndAnOldOnePartitionDatumTopicIsFine() throws Exception {
    TopicSpec datums = TopicKind.datums("parts", "train");
    TopicSpec jobs = TopicKind.JOBS.named("parts.jobs");
    assertEquals(List.of(), new TopicSetup(clients, new TopicsConfig()).ensure(datums, jobs));
    Map<String, TopicDescription> d = described(datums.name(), jobs.name());
    assertEquals(4, d.get(datums.name()).partitions().size());
    assertEquals(12, d.get(jobs.name()).partitions().size());

    TopicsConfig two = new TopicsConfig();
    two.setDatumsPartitions(2);
    two.setJobsPartitions(3);
    TopicSpec other = TopicKind.datums("parts2", "train");
    TopicSpec otherJobs = TopicKind.JOBS.named("parts2.jobs");
    assertEquals(List.of(), new TopicSetup(clients, two).ensure(other, otherJobs));
    d = described(other.name(), otherJobs.name());
    assertEquals(2, d.get(other.name()).partitions().size());
    assertEquals(3, d.get(otherJobs.name()).partitions().size());

    // A datum topic made with one partition (before partitions) is read as it is: nothing to report.
    admin.createTopics(List.of(new NewTopic("crema.datums.old.train", 1, (short) 1).configs(
        TopicKind.DATUMS.configs(1)))).all().get(30, TimeUnit.SECONDS);
    assertEquals(List.of(), new TopicSetup(clients, new TopicsConfig()).ensure(TopicKind.datums("old", "train")));
  }

  @Test
  void anExistingTopicThatDiffersIsReportedAndAlteredOnlyWhenAsked() throws Exception {
    admin.createTopics(List.of(new NewTopic("b.checkpoints", 1, (short) 1)
        .configs(Map.of("retention.ms", "604800000", "max.message.bytes", "1048588")),
        new NewTopic("b.jobs", 3, (short) 1).configs(Map.of("retention.ms", "-1", "max.message.bytes",
            "1048588")))).all().get(30, TimeUnit.SECONDS);
    TopicSpec checkpoints = TopicKind.CHECKPOINTS.named("b.checkpoints");
    TopicSpec jobs = TopicKind.JOBS.named("b.jobs");
    List<String> found = new TopicSetup(clients, new TopicsConfig()).ensure(checkpoints, jobs);
    assertEquals(2, found.size(), found.toString());
    String retention = found.get(0);
    assertTrue(retention.startsWith("topic b.checkpoints: retention.ms is 604800000 (7 days), Crema expects -1"
        + " (kept forever); alter it with kafka-configs.sh"), retention);
    assertTrue(retention.contains("--entity-name b.checkpoints --add-config retention.ms=-1"), retention);
    assertTrue(found.get(1).startsWith("topic b.jobs: has 3 partitions, Crema expects 12 (crema.topics.jobs-partitions"), found.get(1));
    assertEquals("604800000", configOf("b.checkpoints").get("retention.ms").value(), "not altered silently");

    TopicsConfig fix = new TopicsConfig();
    fix.setFix(true);
    List<String> fixed = new TopicSetup(clients, fix).ensure(checkpoints);
    assertEquals(1, fixed.size(), fixed.toString());
    assertTrue(fixed.get(0).contains("altering it (crema.topics.fix=true)"), fixed.get(0));
    assertEquals("-1", configOf("b.checkpoints").get("retention.ms").value());
    assertEquals(List.of(), new TopicSetup(clients, new TopicsConfig()).ensure(checkpoints));
  }

  @Test
  void ensureOnceCreatesADatumsTopicOnFirstWrite() throws Exception {
    TopicSetup setup = new TopicSetup(clients, new TopicsConfig());
    String topic = Topics.datums("once", "train");
    setup.ensureOnce(topic);
    setup.ensureOnce(topic);
    assertEquals("-1", configOf(topic).get("retention.ms").value());
    assertEquals("-1", configOf(topic).get("retention.bytes").value());
  }

  @Test
  void replicationFollowsTheClusterSize() {
    TopicsConfig c = new TopicsConfig();
    assertEquals(1, c.replicationFactor(1));
    assertEquals(2, c.replicationFactor(2));
    assertEquals(3, c.replicationFactor(5));
    assertEquals(1, c.minInsyncReplicas(1));
    assertEquals(1, c.minInsyncReplicas(2));
    assertEquals(2, c.minInsyncReplicas(3));
    c.setReplicationFactor(2);
    c.setMinInsyncReplicas(2);
    assertEquals(2, c.replicationFactor(5));
    assertEquals(2, c.minInsyncReplicas(2));
  }

  /** README.md's topic table lists every topic Crema declares. */
  @Test
  void theReadmeListsEveryTopic() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (TopicKind k : TopicKind.values()) {
      assertTrue(readme.contains("| `" + k.defaultName() + "` |"), "README.md's topic table lists " + k.defaultName());
    }
  }
}
