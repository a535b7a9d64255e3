package crema.engine.csv;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines at '\n' without decoding, so that a line of invalid UTF-8 is
 * reported alone and the next line still reads. Lines past the limit are truncated in memory (the
 * parser refuses them) but consumed whole.
 */
public final class CsvLines implements AutoCloseable {
  private final InputStream in;
  private final int limit;
  /**
   * Read ahead in blocks and scanned here for '\n': a byte-at-a-time read() through a
   * BufferedInputStream takes a lock per byte, which made this the slowest step of ingest.
   */
  private final byte[] block = new byte[1 << 16];
  private int pos;
  private int end;
  private long number;
  private long bytesRead;

  public CsvLines(InputStream in, int limit) {
    this.in = in;
    this.limit = limit;
  }

  /** The next line without its '\n', or null at the end. Over-long lines report their true length. */
  public byte[] next() throws IOException {
    byte[] line = null;
    int kept = 0;
    long length = 0;
    boolean any = false;
    while (pos < end || refill()) {
      any = true;
      int nl = pos;
      while (nl < end && block[nl] != '\n') {
        nl++;
      }
      int n = nl - pos;
      // An over-long line comes back as its first limit + 1 bytes: enough for the parser to refuse
      // it, without holding the whole line in memory.
      int keep = (int) Math.max(0, Math.min(n, (long) limit + 1 - length));
      if (keep > 0) {
        if (line == null) {
          line = new byte[nl < end ? keep : Math.max(keep, 256)];
        } else if (kept + keep > line.length) {
          line = Arrays.copyOf(line, (int) Math.min(Math.max(kept + keep, 2L * line.length),
              Math.min((long) limit + 1, Integer.MAX_VALUE - 8)));
        }
        System.arraycopy(block, pos, line, kept, keep);
        kept += keep;
      }
      length += n;
      bytesRead += n;
      if (nl < end) {
        bytesRead++;
        pos = nl + 1;
        break;
      }
      pos = end;
    }
    if (!any) {
      return null;
    }
    number++;
    if (line == null) {
      return new byte[0];
    }
    return kept == line.length ? line : Arrays.copyOf(line, kept);
  }

  private boolean refill() throws IOException {
    int n = in.read(block, 0, block.length);
    while (n == 0) {
      n = in.read(block, 0, block.length);
    }
    pos = 0;
    end = Math.max(n, 0);
    return n > 0;
  }

  /** The 1-based number of the line last returned. */
  public long lineNumber() {
    return number;
  }

  public long bytesRead() {
    return bytesRead;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
