package crema.ingest;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Requires;

/** {@code crema.ingest.*}: limits on what a request may send, and how rows are parsed. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.ingest", notEquals = "false")
@ConfigurationProperties("crema.ingest")
public class IngestConfig {
  /** Lines longer than this (bytes) are rejected to the dead-letter topic. Default 1 MiB. */
  private int maxLineBytes = 1 << 20;

  /**
   * Threads that parse and validate rows (in chunks, in parallel; the rows still go out in their
   * order). Default: one per core.
   */
  private int parseThreads = Runtime.getRuntime().availableProcessors();

  /** Lines per chunk handed to a parse thread: enough to amortise the hand-off, small enough to stream. */
  private int chunkLines = 512;

  public int getParseThreads() {
    return parseThreads;
  }

  public void setParseThreads(int parseThreads) {
    this.parseThreads = parseThreads;
  }

  public int getChunkLines() {
    return chunkLines;
  }

  public void setChunkLines(int chunkLines) {
    this.chunkLines = chunkLines;
  }

  /** An archive's image files larger than this (bytes) are rejected to the dead-letter topic. Default 64 MiB. */
  private long maxImageBytes = 64L << 20;

  public long getMaxImageBytes() {
    return maxImageBytes;
  }

  public void setMaxImageBytes(long maxImageBytes) {
    this.maxImageBytes = maxImageBytes;
  }

  public int getMaxLineBytes() {
    return maxLineBytes;
  }

  public void setMaxLineBytes(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }
}
