package crema.inference;

import io.micronaut.runtime.Micronaut;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** The inference service: follows checkpoints, serves predictions from the newest good one. */
@io.swagger.v3.oas.annotations.OpenAPIDefinition(
    info = @io.swagger.v3.oas.annotations.info.Info(title = "crema-inference", version = "0.1.0",
        description = "Crema's inference service: predictions from the newest good checkpoint, and every checkpoint as files. With crema.api.token set, every endpoint but /health"
            + " needs Authorization: Bearer <token>."),
    security = @io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "bearer"))
@io.swagger.v3.oas.annotations.security.SecurityScheme(name = "bearer",
    type = io.swagger.v3.oas.annotations.enums.SecuritySchemeType.HTTP, scheme = "bearer")
public final class InferenceApplication {
  private InferenceApplication() {}

  public static void main(String[] args) {
    // java.util.logging's users (netlib's BLAS loader) print through logback too: one line format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Micronaut.build(args).mainClass(InferenceApplication.class).banner(false).start();
  }
}
