package crema.inference;

import io.micronaut.runtime.Micronaut;

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
    Micronaut.run(InferenceApplication.class, args);
  }
}
