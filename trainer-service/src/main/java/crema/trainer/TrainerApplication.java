package crema.trainer;

import io.micronaut.runtime.Micronaut;

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
    Micronaut.run(TrainerApplication.class, args);
  }
}
