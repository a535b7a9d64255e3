package crema.ingest;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Requires;

/** {@code crema.ingest.*}: limits on what a request may send. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.ingest", notEquals = "false")
@ConfigurationProperties("crema.ingest")
public class IngestConfig {
  /** Lines longer than this (bytes) are rejected to the dead-letter topic. Default 1 MiB. */
  private int maxLineBytes = 1 << 20;

  public int getMaxLineBytes() {
    return maxLineBytes;
  }

  public void setMaxLineBytes(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }
}
