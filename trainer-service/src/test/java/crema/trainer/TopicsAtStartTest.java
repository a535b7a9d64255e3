package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** The trainer creates crema.jobs, crema.checkpoints and crema.train-events at start, kept forever. */
class TopicsAtStartTest {
  @Test
  void theTrainersTopicsAreKeptForever() throws Exception {
    String bootstrap = EmbeddedBroker.shared().bootstrapServers();
    try (ApplicationContext ctx = ApplicationContext.run(EmbeddedServer.class,
            Map.of("micronaut.server.port", -1, "kafka.bootstrap.servers", bootstrap)).getApplicationContext();
        Admin admin = new KafkaClients(bootstrap, Map.of()).admin("test")) {
      Set<String> topics = Set.of(Topics.JOBS, Topics.CHECKPOINTS, Topics.TRAIN_EVENTS);
      long deadline = System.currentTimeMillis() + 30_000;
      while (!admin.listTopics().names().get().containsAll(topics) && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      for (String t : topics) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, t);
        var config = admin.describeConfigs(List.of(r)).all().get().get(r);
        assertEquals("-1", config.get("retention.ms").value(), t);
        assertEquals("-1", config.get("retention.bytes").value(), t);
      }
      ConfigResource c = new ConfigResource(ConfigResource.Type.TOPIC, Topics.CHECKPOINTS);
      assertEquals("1048588", // Kafka's default: large checkpoints go in parts
          admin.describeConfigs(List.of(c)).all().get().get(c).get("max.message.bytes").value());
    }
  }
}
