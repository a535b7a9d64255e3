package crema.engine.csv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CsvLines against the plainest splitter there is (one byte at a time): same lines, same
 * truncation of over-long lines, same line numbers and byte counts, whatever sizes the stream's
 * reads come back in and however lines fall across its read-ahead blocks.
 */
class CsvLinesTest {
  /** Lines at '\n'; each kept to its first limit + 1 bytes; a last line without '\n' counts. */
  private static List<byte[]> reference(byte[] in, int limit) {
    List<byte[]> out = new ArrayList<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    long length = 0;
    boolean any = false;
    for (byte b : in) {
      any = true;
      if (b == '\n') {
        out.add(line.toByteArray());
        line.reset();
        length = 0;
        any = false;
        continue;
      }
      if (length <= limit) {
        line.write(b);
      }
      length++;
    }
    if (any) {
      out.add(line.toByteArray());
    }
    return out;
  }

  /** A stream whose reads return 1 to {@code most} bytes, as a network body does. */
  private static InputStream chopped(byte[] data, int most, Random r) {
    return new InputStream() {
      int pos;

      @Override
      public int read() {
        return pos < data.length ? data[pos++] & 0xff : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (pos >= data.length) {
          return -1;
        }
        int n = Math.min(Math.min(len, 1 + r.nextInt(most)), data.length - pos);
        System.arraycopy(data, pos, b, off, n);
        pos += n;
        return n;
      }
    };
  }

  @Test
  void sameLinesAsAByteAtATimeSplitter() throws IOException {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    byte[] alphabet = "ab,1.\r\n\"".getBytes();
    for (int trial = 0; trial < 200; trial++) {
      int size = r.nextInt(4) == 0 ? r.nextInt(300_000) : r.nextInt(2_000);
      // Long lines (past the 64 KiB read-ahead) in some trials: '\n' rarer.
      int newlineEvery = r.nextBoolean() ? 20 : 100_000;
      byte[] data = new byte[size];
      for (int i = 0; i < size; i++) {
        data[i] = r.nextInt(newlineEvery) == 0 ? (byte) '\n' : alphabet[r.nextInt(alphabet.length - 2)];
      }
      int limit = r.nextBoolean() ? 1 + r.nextInt(100) : 1 << 20;
      List<byte[]> expected = reference(data, limit);
      try (CsvLines lines = new CsvLines(chopped(data, 1 + r.nextInt(100_000), r), limit)) {
        for (int i = 0; i < expected.size(); i++) {
          byte[] got = lines.next();
          assertArrayEquals(expected.get(i), got, "seed " + seed + " trial " + trial + " line " + (i + 1)
              + ": " + Arrays.toString(got));
          assertEquals(i + 1, lines.lineNumber());
        }
        assertNull(lines.next(), "seed " + seed + " trial " + trial);
        assertEquals(data.length, lines.bytesRead(), "seed " + seed + " trial " + trial);
      }
    }
  }
}
