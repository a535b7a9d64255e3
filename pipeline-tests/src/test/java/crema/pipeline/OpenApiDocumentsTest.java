package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.up.CremaUp;
import io.micronaut.context.ApplicationContext;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each service's OpenAPI document, generated at build time by Micronaut OpenAPI: it validates
 * (swagger-parser), names every endpoint the service's controllers declare, and the service serves
 * it at {@code /openapi.yml} (each its own, under crema up's shared class path).
 */
class OpenApiDocumentsTest {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();
  static final Pattern CONTROLLER = Pattern.compile("@Controller(?:\\(\"([^\"]*)\"\\))?");
  static final Pattern ROUTE = Pattern.compile(
      "@(Get|Post|Put|Delete|Patch)(?:\\((?:value\\s*=\\s*)?\"([^\"]*)\"[^)]*\\))?(?!\\w)");

  /** Every (method, path) the service's controllers declare, read from their sources. */
  static List<String> endpoints(String service) throws Exception {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(REPO.resolve(service + "-service/src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String src = Files.readString(f);
        Matcher c = CONTROLLER.matcher(src);
        if (!c.find()) {
          continue;
        }
        String base = c.group(1) == null ? "" : c.group(1);
        Matcher r = ROUTE.matcher(src);
        while (r.find()) {
          String path = base + (r.group(2) == null ? "" : r.group(2));
          out.add(r.group(1).toUpperCase() + " " + (path.isEmpty() ? "/" : path));
        }
      }
    }
    return out;
  }

  static OpenAPI parse(String yaml) {
    ParseOptions o = new ParseOptions();
    o.setResolve(true);
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(yaml, null, o);
    assertTrue(result.getMessages() == null || result.getMessages().isEmpty(), String.valueOf(result.getMessages()));
    assertTrue(result.getOpenAPI() != null);
    return result.getOpenAPI();
  }

  @ParameterizedTest
  @ValueSource(strings = {"ingest", "trainer", "inference", "visualizer"})
  void theDocumentValidatesAndNamesEveryEndpoint(String service) throws Exception {
    Path doc = REPO.resolve(service + "-service/target/classes/META-INF/swagger/crema-" + service + ".yml");
    assertTrue(Files.exists(doc), doc + " is generated at build time");
    OpenAPI api = parse(Files.readString(doc));
    assertEquals("crema-" + service, api.getInfo().getTitle());
    assertTrue(api.getComponents().getSecuritySchemes().containsKey("bearer"), "the API token is documented");
    List<String> declared = endpoints(service);
    assertTrue(!declared.isEmpty(), service);
    for (String e : declared) {
      String method = e.substring(0, e.indexOf(' '));
      String path = e.substring(e.indexOf(' ') + 1);
      PathItem item = api.getPaths().get(path);
      assertTrue(item != null, service + ": " + e + " is missing from the OpenAPI document; it has "
          + api.getPaths().keySet());
      assertTrue(item.readOperationsMap().keySet().stream().anyMatch(m -> m.name().equals(method)),
          service + ": " + e + " is missing from the OpenAPI document");
    }
    System.out.println(service + ": " + declared.size() + " endpoints, all in " + doc.getFileName());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ingest", "trainer", "inference", "visualizer"})
  void eachServiceServesItsOwnDocumentAtOpenapiYml(String service) throws Exception {
    int port = PipelineSupport.freePort();
    try (ApplicationContext ctx = CremaUp.service(service, port, EmbeddedBroker.shared().bootstrapServers(),
        Map.of("crema.api.token", "t0ken"))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI uri = URI.create("http://localhost:" + port + "/openapi.yml");
      assertEquals(401, http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode(), "the API token applies");
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer t0ken").build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, r.statusCode());
      assertEquals("crema-" + service, parse(new String(r.body(), StandardCharsets.UTF_8)).getInfo().getTitle());
    }
  }
}
