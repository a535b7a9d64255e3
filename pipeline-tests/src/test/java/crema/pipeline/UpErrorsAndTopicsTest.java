package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.ErrorBodies;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.up.CremaUp;
import io.micronaut.context.ApplicationContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import io.micronaut.json.JsonMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/**
 * The four services as {@code crema up} runs them (one process, one context each): each has the
 * one error shape, and together they create every fixed topic with Crema's settings.
 */
class UpErrorsAndTopicsTest {
  @Test
  void everyServiceAnswersErrorsInOneShapeAndCreatesItsTopics() throws Exception {
    EmbeddedBroker broker = EmbeddedBroker.shared();
    List<ApplicationContext> contexts = new ArrayList<>();
    HttpClient http = HttpClient.newHttpClient();
    try (Admin admin = new KafkaClients(broker.bootstrapServers(), Map.of()).admin("test")) {
      for (String s : List.of("ingest", "trainer", "inference", "visualizer")) {
        int port = PipelineSupport.freePort();
        ApplicationContext ctx = CremaUp.service(s, port, broker.bootstrapServers(), Map.of());
        contexts.add(ctx);
        assertInstanceOf(ErrorBodies.class, ctx.getBean(ErrorResponseProcessor.class), s);
        for (String method : List.of("GET", "DELETE")) {
          String path = method.equals("GET") ? "/no/such/route" : "/health";
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
              .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
          assertTrue(r.statusCode() == 404 || r.statusCode() == 405, s + " " + method + " " + path + ": " + r.statusCode());
          @SuppressWarnings("unchecked")
          Map<String, Object> body = ctx.getBean(JsonMapper.class).readValue(r.body(), Map.class);
          assertEquals(Set.of("error"), body.keySet(), s + ": " + r.body());
          assertInstanceOf(String.class, body.get("error"), r.body());
        }
      }
      long deadline = System.currentTimeMillis() + 60_000;
      List<String> fixed = new ArrayList<>();
      for (TopicKind k : TopicKind.values()) {
        if (k != TopicKind.DATUMS) {
          fixed.add(k.defaultName());
        }
      }
      while (!admin.listTopics().names().get().containsAll(fixed) && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      assertTrue(admin.listTopics().names().get().containsAll(fixed), admin.listTopics().names().get().toString());
      for (String t : List.of("crema.jobs", "crema.checkpoints", "crema.dead-letter", "crema.train-events")) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, t);
        assertEquals("-1", admin.describeConfigs(List.of(r)).all().get().get(r).get("retention.ms").value(), t);
      }
    } finally {
      contexts.forEach(ApplicationContext::close);
    }
  }
}
