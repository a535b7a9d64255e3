package crema.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/**
 * A 3-node KRaft cluster in this process: it forms one cluster, Crema's topics get 3 replicas and
 * min.insync.replicas 2, and with the leader of a topic stopped acks=all writes still succeed,
 * nothing written is lost or doubled, and the stopped node comes back into every in-sync set.
 */
class EmbeddedClusterTest {
  private static final String TOPIC = TopicKind.PREDICT_REQUESTS.defaultName();

  @Test
  void threeNodesFormOneClusterAndSurviveOneStopping() throws Exception {
    try (EmbeddedBroker cluster = EmbeddedBroker.startCluster(3, Map.of());
        Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
      assertEquals(3, cluster.size());
      assertEquals(3, cluster.bootstrapServers().split(",").length);
      Set<Integer> ids = new java.util.TreeSet<>();
      admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).forEach(n -> ids.add(n.id()));
      assertEquals(Set.of(1, 2, 3), ids, "every node is a broker of the one cluster");
      assertEquals(3, admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).voters().size(),
          "and a voter of its controller quorum");

      KafkaClients clients = new KafkaClients(cluster.bootstrapServers(), Map.of());
      TopicSetup setup = new TopicSetup(clients, new TopicsConfig());
      assertEquals(List.of(), setup.ensure(TopicKind.PREDICT_REQUESTS.spec()), "created, nothing to report");
      TopicDescription d = FreshTopics.known(() -> admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC));
      for (TopicPartitionInfo p : d.partitions()) {
        assertEquals(3, p.replicas().size(), "replication factor 3 on partition " + p.partition());
        assertEquals(3, p.isr().size());
      }
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
      Config c = FreshTopics.known(() -> admin.describeConfigs(List.of(r)).all().get().get(r));
      assertEquals("2", c.get("min.insync.replicas").value());

      Map<String, Integer> written = new HashMap<>();
      try (KafkaProducer<String, byte[]> producer = clients.producer("cluster-test")) {
        send(producer, "before", 200, written);
        int leader = d.partitions().get(0).leader().id();
        cluster.stopNode(leader);
        assertTrue(!cluster.isRunning(leader));
        // acks=all with min.insync.replicas 2: accepted by the two nodes left.
        send(producer, "one-down", 200, written);
        waitForIsr(admin, 2);
        cluster.startNode(leader);
        waitForIsr(admin, 3);
        // Then another node goes: the one that came back holds every record too.
        int other = leader % 3 + 1;
        cluster.stopNode(other);
        send(producer, "other-down", 200, written);
        cluster.startNode(other);
        waitForIsr(admin, 3);
      }
      Map<String, Integer> read = new HashMap<>();
      TopicLog.readToEnd(clients, "cluster-test-reader", TOPIC, Duration.ofSeconds(60),
          rec -> read.merge(rec.key(), 1, Integer::sum));
      assertEquals(600, written.size());
      assertEquals(written, read, "every record exactly once");
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, String prefix, int n, Map<String, Integer> written)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = prefix + "-" + i;
      sent.add(producer.send(new ProducerRecord<>(TOPIC, key, key.getBytes())));
      written.merge(key, 1, Integer::sum);
    }
    for (Future<RecordMetadata> f : sent) {
      f.get(120, TimeUnit.SECONDS);
    }
  }

  /** Waits until every partition of the topic has {@code size} replicas in sync. */
  private static void waitForIsr(Admin admin, int size) throws Exception {
    long deadline = System.currentTimeMillis() + 90_000;
    List<Integer> isr = List.of();
    while (System.currentTimeMillis() < deadline) {
      TopicDescription d = FreshTopics.known(() -> admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC));
      isr = d.partitions().stream().map(p -> p.isr().size()).toList();
      if (isr.stream().allMatch(s -> s == size)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("in-sync replicas per partition: " + isr + ", expected " + size + " each");
  }
}
