package crema.ingest;

import io.micronaut.context.annotation.ConfigurationProperties;

/** {@code crema.ingest.*}: limits on what a request may send. */
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
