package crema.inference;

import io.micronaut.runtime.Micronaut;

/** The inference service: follows checkpoints, serves predictions from the newest good one. */
public final class InferenceApplication {
  private InferenceApplication() {}

  public static void main(String[] args) {
    Micronaut.run(InferenceApplication.class, args);
  }
}
