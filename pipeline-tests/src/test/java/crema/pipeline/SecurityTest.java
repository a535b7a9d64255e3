package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.up.CremaUp;
import io.micronaut.context.ApplicationContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The services' security settings, each service in-process on a real broker as crema up runs it. */
class SecurityTest {
  static final String TOKEN = "s3cret-token";
  static final List<String> SERVICES = List.of("ingest", "trainer", "inference", "visualizer");
  /** A protected endpoint of each service. */
  static final Map<String, String> ENDPOINT = Map.of("ingest", "/prometheus", "trainer", "/v1/jobs",
      "inference", "/v1/models", "visualizer", "/api/overview");

  static EmbeddedBroker broker;
  static final Map<String, ApplicationContext> CONTEXTS = new HashMap<>();
  static final Map<String, Integer> PORTS = new HashMap<>();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.shared();
    for (String s : SERVICES) {
      int port = PipelineSupport.freePort();
      PORTS.put(s, port);
      CONTEXTS.put(s, CremaUp.service(s, port, broker.bootstrapServers(), Map.of(
          "crema.api.token", TOKEN,
          "micronaut.server.max-request-size", "1MB",
          "crema.trainer.max-prototxt-bytes", 2000,
          "crema.ingest.max-line-bytes", 100,
          "kafka.client.security.protocol", "PLAINTEXT",
          "kafka.client.ssl.endpoint.identification.algorithm", "https",
          "kafka.client.sasl.mechanism", "SCRAM-SHA-512")));
    }
  }

  @AfterAll
  static void stop() {
    CONTEXTS.values().forEach(ApplicationContext::close);
  }

  static HttpResponse<String> send(String service, HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest.Builder to(String service, String path) {
    return HttpRequest.newBuilder(URI.create("http://localhost:" + PORTS.get(service) + path));
  }

  @Test
  void everyEndpointButHealthNeedsTheToken() throws Exception {
    for (String s : SERVICES) {
      HttpResponse<String> none = send(s, to(s, ENDPOINT.get(s)));
      assertEquals(401, none.statusCode(), s + " without the token: " + none.body());
      assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), s);
      assertEquals(401, send(s, to(s, ENDPOINT.get(s)).header("Authorization", "Bearer wrong")).statusCode(), s);
      assertEquals(401, send(s, to(s, "/prometheus")).statusCode(), s + " metrics need it too");
      assertEquals(200, send(s, to(s, ENDPOINT.get(s)).header("Authorization", "Bearer " + TOKEN)).statusCode(), s);
      assertEquals(200, send(s, to(s, "/prometheus").header("Authorization", "Bearer " + TOKEN)).statusCode(), s);
      assertEquals(200, send(s, to(s, "/health/liveness")).statusCode(), s + " health needs none");
    }
  }

  /** A browser opens the dashboard once with ?token=; it gets an HttpOnly, SameSite=Strict cookie. */
  @Test
  void theDashboardTradesTheTokenForACookie() throws Exception {
    HttpResponse<String> r = send("visualizer", to("visualizer", "/?token=" + TOKEN));
    assertEquals(303, r.statusCode());
    assertEquals("/", r.headers().firstValue("Location").orElse(""));
    String cookie = r.headers().firstValue("Set-Cookie").orElse("");
    assertTrue(cookie.startsWith("crema_token=" + TOKEN) && cookie.toLowerCase().contains("httponly")
        && cookie.contains("SameSite=Strict"), cookie);
    HttpResponse<String> page = send("visualizer", to("visualizer", "/").header("Cookie", "crema_token=" + TOKEN));
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
    assertEquals(401, send("visualizer", to("visualizer", "/?token=nope")).statusCode());
  }

  @Test
  void requestBodiesCsvLinesAndPrototxtAreBounded() throws Exception {
    String auth = "Bearer " + TOKEN;
    HttpResponse<String> big = send("trainer", to("trainer", "/v1/jobs").header("Authorization", auth)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"solver\":\"" + "x".repeat(2 << 20) + "\"}")));
    assertEquals(413, big.statusCode(), "a body over micronaut.server.max-request-size");

    String net = "name: \"" + "n".repeat(3000) + "\"";
    HttpResponse<String> prototxt = send("trainer", to("trainer", "/v1/jobs").header("Authorization", auth)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"m\",\"solver\":\"base_lr: 0.1\",\"net\":\"" + net.replace("\"", "\\\"") + "\"}")));
    assertEquals(400, prototxt.statusCode(), prototxt.body());
    assertTrue(prototxt.body().contains("the limit is 2000 (crema.trainer.max-prototxt-bytes)"), prototxt.body());

    HttpResponse<String> rows = send("ingest", to("ingest", "/v1/datasets/limits/rows?label=y")
        .header("Authorization", auth).header("Content-Type", "text/csv")
        .POST(HttpRequest.BodyPublishers.ofString("a,y\n1,0\n" + "1".repeat(150) + ",1\n2,1\n")));
    assertEquals(200, rows.statusCode(), rows.body());
    assertTrue(rows.body().contains("\"accepted\":2,\"rejected\":1"), rows.body());
    assertTrue(rows.body().contains("line 3: line is longer than the limit of 100 bytes"), rows.body());
  }

  @Test
  void jobsNamingFilesAreRefused() throws Exception {
    String net = "layer { name: 'data' type: 'Data' top: 'data' top: 'label'"
        + " data_param { source: '/var/lib/secret' batch_size: 1 backend: LMDB } }";
    HttpResponse<String> r = send("trainer", to("trainer", "/v1/jobs").header("Authorization", "Bearer " + TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"m\",\"solver\":\"base_lr: 0.1\",\"net\":\"" + net + "\"}")));
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("layer 'data' (Data): data_param.backend LMDB opens '/var/lib/secret'"), r.body());
  }

  /** kafka.client.* reaches every client each service makes: producers, consumers, admin. */
  @Test
  void kafkaSecuritySettingsReachEveryClient() {
    for (String s : SERVICES) {
      KafkaClients clients = CONTEXTS.get(s).getBean(KafkaClients.class);
      for (Map<String, Object> config : List.of(clients.producerConfig("p"), clients.consumerConfig("c", Map.of()),
          clients.adminConfig("a"))) {
        assertEquals("PLAINTEXT", config.get("security.protocol"), s);
        assertEquals("https", config.get("ssl.endpoint.identification.algorithm"), s);
        assertEquals("SCRAM-SHA-512", config.get("sasl.mechanism"), s);
      }
    }
  }
}
