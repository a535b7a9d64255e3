package crema.visualizer;

import io.micronaut.runtime.Micronaut;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** The visualizer service: follows the pipeline's topics and serves the live dashboard. */
@io.swagger.v3.oas.annotations.OpenAPIDefinition(
    info = @io.swagger.v3.oas.annotations.info.Info(title = "crema-visualizer", version = "0.1.0",
        description = "Crema's visualizer service: the dashboard's API: runs, curves, weights, datasets, models. With crema.api.token set, every endpoint but /health"
            + " needs Authorization: Bearer <token>."),
    security = @io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "bearer"))
@io.swagger.v3.oas.annotations.security.SecurityScheme(name = "bearer",
    type = io.swagger.v3.oas.annotations.enums.SecuritySchemeType.HTTP, scheme = "bearer")
public final class VisualizerApplication {
  private VisualizerApplication() {}

  public static void main(String[] args) {
    // java.util.logging's users (netlib's BLAS loader) print through logback too: one line format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Micronaut.build(args).mainClass(VisualizerApplication.class).banner(false).start();
  }
}
