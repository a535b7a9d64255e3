package crema.trainer;

import io.micronaut.runtime.Micronaut;

/** The trainer service: jobs in, train events and checkpoints out. */
public final class TrainerApplication {
  private TrainerApplication() {}

  public static void main(String[] args) {
    Micronaut.run(TrainerApplication.class, args);
  }
}
