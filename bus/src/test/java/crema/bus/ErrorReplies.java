package crema.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.context.ApplicationContext;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * For each service's error-shape test: one service on a free port against the shared broker, and
 * a request whose reply must be {@code {"error": "<message>"}} and nothing else.
 */
public final class ErrorReplies implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final ApplicationContext ctx;

  private ErrorReplies(ApplicationContext ctx) {
    this.ctx = ctx;
  }

  /** Starts the service on the classpath with {@code settings} on top of a free port and the shared broker. */
  public static ErrorReplies start(Map<String, Object> settings) {
    Map<String, Object> p = new HashMap<>(Map.of("micronaut.server.port", -1,
        "kafka.bootstrap.servers", EmbeddedBroker.shared().bootstrapServers()));
    p.putAll(settings);
    return new ErrorReplies(ApplicationContext.run(EmbeddedServer.class, p).getApplicationContext());
  }

  /** Sends a request on the shared keep-alive client. */
  public HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
    URI uri = ctx.getBean(EmbeddedServer.class).getURI().resolve(path);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .timeout(java.time.Duration.ofSeconds(60));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends a request and checks that the reply is a {@code status} whose body is exactly one key, error. */
  public String error(String method, String path, String contentType, String body, int status) throws Exception {
    HttpResponse<String> r = send(method, path, contentType, body);
    assertEquals(status, r.statusCode(), method + " " + path + ": " + r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> json = ctx.getBean(JsonMapper.class).readValue(r.body(), Map.class);
    assertEquals(Set.of("error"), json.keySet(), r.body());
    assertInstanceOf(String.class, json.get("error"), r.body());
    String message = (String) json.get("error");
    assertTrue(!message.isBlank() && !message.contains("Exception") && !message.contains("_links"), message);
    return message;
  }

  @Override
  public void close() {
    ctx.close();
  }
}
