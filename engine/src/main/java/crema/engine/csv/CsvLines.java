package crema.engine.csv;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Splits a byte stream into lines at '\n' without decoding, so that a line of invalid UTF-8 is
 * reported alone and the next line still reads. Lines past the limit are truncated in memory (the
 * parser refuses them) but consumed whole.
 */
public final class CsvLines implements AutoCloseable {
  private final InputStream in;
  private final int limit;
  private long number;
  private long bytesRead;

  public CsvLines(InputStream in, int limit) {
    this.in = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 1 << 16);
    this.limit = limit;
  }

  /** The next line without its '\n', or null at the end. Over-long lines report their true length. */
  public byte[] next() throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    int b;
    long length = 0;
    boolean any = false;
    while ((b = in.read()) != -1) {
      any = true;
      bytesRead++;
      if (b == '\n') {
        break;
      }
      if (length <= limit) {
        buf.write(b);
      }
      length++;
    }
    if (!any) {
      return null;
    }
    number++;
    // An over-long line comes back as its first limit + 1 bytes: enough for the parser to refuse
    // it, without holding the whole line in memory.
    return buf.toByteArray();
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
