package crema.trainer;

import io.micronaut.runtime.Micronaut;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** The trainer service: jobs in, train events and checkpoints out. */
@io.swagger.v3.oas.annotations.OpenAPIDefinition(
    info = @io.swagger.v3.oas.annotations.info.Info(title = "crema-trainer", version = "0.1.0",
        description = "Crema's trainer service: training jobs: submitted, stopped, listed. With crema.api.token set, every endpoint but /health"
            + " needs Authorization: Bearer <token>."),
    security = @io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "bearer"))
@io.swagger.v3.oas.annotations.security.SecurityScheme(name = "bearer",
    type = io.swagger.v3.oas.annotations.enums.SecuritySchemeType.HTTP, scheme = "bearer")
public final class TrainerApplication {
  private TrainerApplication() {}

  public static void main(String[] args) {
    // java.util.logging's users (netlib's BLAS loader) print through logback too: one line format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Micronaut.build(args).mainClass(TrainerApplication.class).banner(false).start();
  }
}
