package crema.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** The service creates its topics with Crema's settings: at start, and a dataset's before its first row. */
class TopicsAtStartTest {
  static String retention(Admin admin, String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(r)).all().get().get(r).get("retention.ms").value();
  }

  @Test
  void topicsAreCreatedWithCremasRetention() throws Exception {
    String bootstrap = EmbeddedBroker.shared().bootstrapServers();
    try (ApplicationContext ctx = ApplicationContext.run(EmbeddedServer.class,
            Map.of("micronaut.server.port", -1, "kafka.bootstrap.servers", bootstrap)).getApplicationContext();
        Admin admin = new KafkaClients(bootstrap, Map.of()).admin("test")) {
      long deadline = System.currentTimeMillis() + 30_000;
      while (!admin.listTopics().names().get().containsAll(Set.of(Topics.RAW, Topics.DEAD_LETTER, Topics.DATASETS))
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertEquals("604800000", retention(admin, Topics.RAW));
      assertEquals("-1", retention(admin, Topics.DATASETS));
      var uri = ctx.getBean(EmbeddedServer.class).getURI().resolve("/v1/datasets/kept/rows?label=y&split=train");
      var reply = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).header("Content-Type", "text/csv")
          .POST(HttpRequest.BodyPublishers.ofString("a,y\n1,0\n2,1\n")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, reply.statusCode(), reply.body());
      assertEquals("-1", retention(admin, Topics.datums("kept", "train")));
    }
  }
}
