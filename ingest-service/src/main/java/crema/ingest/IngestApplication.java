package crema.ingest;

import io.micronaut.runtime.Micronaut;

/** The ingest service: CSV rows in, Datum records, dataset schemas and dead letters out. */
public final class IngestApplication {
  private IngestApplication() {}

  public static void main(String[] args) {
    Micronaut.run(IngestApplication.class, args);
  }
}
