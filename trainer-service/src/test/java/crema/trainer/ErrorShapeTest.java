package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import io.micronaut.context.ApplicationContext;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every error of the service, Micronaut's own ones too, is {@code {"error": "<message>"}} and nothing else. */
class ErrorShapeTest {
  static ApplicationContext ctx;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    ctx = ApplicationContext.run(EmbeddedServer.class, Map.of("micronaut.server.port", -1,
        "kafka.bootstrap.servers", EmbeddedBroker.shared().bootstrapServers())).getApplicationContext();
  }

  @AfterAll
  static void stop() {
    ctx.close();
  }

  /** Sends a request and checks that the reply is a {@code status} whose body is exactly one key, error. */
  static String error(String method, String path, String contentType, String body, int status) throws Exception {
    URI uri = ctx.getBean(EmbeddedServer.class).getURI().resolve(path);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(status, r.statusCode(), method + " " + path + ": " + r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> json = ctx.getBean(JsonMapper.class).readValue(r.body(), Map.class);
    assertEquals(java.util.Set.of("error"), json.keySet(), r.body());
    assertInstanceOf(String.class, json.get("error"), r.body());
    String message = (String) json.get("error");
    assertTrue(!message.isBlank() && !message.contains("Exception") && !message.contains("_links"), message);
    return message;
  }

  @Test
  void anUnknownRouteIsA404WithAnError() throws Exception {
    String m = error("GET", "/no/such/route", null, null, 404);
    assertEquals("no route GET /no/such/route", m);
  }

  @Test
  void aWrongMethodIsA405WithAnError() throws Exception {
    String m = error("DELETE", "/v1/jobs", null, null, 405);
    assertTrue(m.contains("not allowed"), m);
  }

  @Test
  void aMalformedJsonBodyIsA400SayingWhere() throws Exception {
    String m = error("POST", "/v1/jobs", "application/json", "{\"model\": \"m\",\n \"solver\": }", 400);
    assertTrue(m.startsWith("malformed JSON at line 2, column"), m);
    assertTrue(!m.contains("Source") && !m.contains("jackson"), m);
  }

  @Test
  void aWrongContentTypeIsA415WithAnError() throws Exception {
    String m = error("POST", "/v1/jobs", "text/csv", "a,b", 415);
    assertTrue(m.contains("text/csv"), m);
  }
}
