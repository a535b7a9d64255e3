package crema.bus;

import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * {@code GET /openapi.yml}: the service's OpenAPI document, generated at build time by Micronaut
 * OpenAPI into {@code META-INF/swagger/<application name>.yml} (each service's openapi.properties
 * names it). Under crema up every service's document is on the class path; each context serves
 * its own.
 */
@Controller
@Requires(beans = KafkaClients.class)
public class OpenApiDocument {
  private final String application;

  public OpenApiDocument(@Value("${micronaut.application.name:crema}") String application) {
    this.application = application;
  }

  @Get(value = "/openapi.yml", produces = "application/yaml")
  public HttpResponse<?> document() throws IOException {
    try (InputStream in = OpenApiDocument.class.getClassLoader()
        .getResourceAsStream("META-INF/swagger/" + application + ".yml")) {
      if (in == null) {
        return HttpResponse.notFound(Map.of("error", "no OpenAPI document for " + application + " in this build"));
      }
      return HttpResponse.ok(in.readAllBytes()).contentType("application/yaml");
    }
  }
}
