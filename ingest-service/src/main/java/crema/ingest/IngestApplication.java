package crema.ingest;

import io.micronaut.runtime.Micronaut;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** The ingest service: CSV rows in, Datum records, dataset schemas and dead letters out. */
@io.swagger.v3.oas.annotations.OpenAPIDefinition(
    info = @io.swagger.v3.oas.annotations.info.Info(title = "crema-ingest", version = "0.1.0",
        description = "Crema's ingest service: CSV rows in, Datum records out, on Kafka. With crema.api.token set, every endpoint but /health"
            + " needs Authorization: Bearer <token>."),
    security = @io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "bearer"))
@io.swagger.v3.oas.annotations.security.SecurityScheme(name = "bearer",
    type = io.swagger.v3.oas.annotations.enums.SecuritySchemeType.HTTP, scheme = "bearer")
public final class IngestApplication {
  private IngestApplication() {}

  public static void main(String[] args) {
    // java.util.logging's users (netlib's BLAS loader) print through logback too: one line format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Micronaut.build(args).mainClass(IngestApplication.class).banner(false).start();
  }
}
