package crema.ingest;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * An uploaded zip or tar (plain ustar/GNU/pax), spooled to a temporary file so that it can be read
 * twice: once for the entries' names (labels from folders, the list file), once for their bytes.
 * The format is told by its first bytes, not by the request's content type.
 */
final class ImageArchive implements AutoCloseable {
  /** A regular file of the archive. */
  record Entry(String name, long size) {}

  /** Receives each regular file's bytes, in archive order. */
  interface Visitor {
    void entry(Entry e, byte[] bytes) throws IOException;
  }

  private final Path file;
  private final boolean zip;
  private final long maxEntryBytes;

  private ImageArchive(Path file, boolean zip, long maxEntryBytes) {
    this.file = file;
    this.zip = zip;
    this.maxEntryBytes = maxEntryBytes;
  }

  /** Spools {@code body}; refuses (IllegalArgumentException) what is neither a zip nor a tar. */
  static ImageArchive spool(InputStream body, long maxEntryBytes) throws IOException {
    Path tmp = Files.createTempFile("crema-ingest-", ".archive");
    try {
      Files.copy(body, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      byte[] head = new byte[512];
      int n;
      try (InputStream in = Files.newInputStream(tmp)) {
        n = in.readNBytes(head, 0, 512);
      }
      if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
        return new ImageArchive(tmp, true, maxEntryBytes);
      }
      if (n == 512 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
        return new ImageArchive(tmp, false, maxEntryBytes);
      }
      throw new IllegalArgumentException("the body is neither a zip nor a tar archive");
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** The regular files' names and sizes, in archive order. */
  List<Entry> entries() throws IOException {
    List<Entry> out = new ArrayList<>();
    if (zip) {
      try (ZipFile z = new ZipFile(file.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          if (!e.isDirectory()) {
            out.add(new Entry(e.getName(), e.getSize()));
          }
        }
      }
    } else {
      tar((e, in) -> out.add(e), false);
    }
    return out;
  }

  /** Every regular file with its bytes, in archive order. */
  void read(Visitor v) throws IOException {
    if (zip) {
      try (ZipFile z = new ZipFile(file.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          if (e.isDirectory()) {
            continue;
          }
          Entry entry = new Entry(e.getName(), e.getSize());
          if (e.getSize() > maxEntryBytes) {
            v.entry(entry, null);
            continue;
          }
          try (InputStream in = z.getInputStream(e)) {
            v.entry(entry, in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxEntryBytes + 1)));
          }
        }
      }
    } else {
      tar((e, in) -> v.entry(e, in), true);
    }
  }

  /** One entry's bytes, or null when the entry is larger than the limit (a dead letter). */
  byte[] bytesOf(String name) throws IOException {
    byte[][] found = new byte[1][];
    read((e, b) -> {
      if (e.name().equals(name) && found[0] == null) {
        found[0] = b;
      }
    });
    return found[0];
  }

  private void tar(Visitor v, boolean withBytes) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      byte[] header = new byte[512];
      String longName = null;
      while (in.readNBytes(header, 0, 512) == 512) {
        if (allZero(header)) {
          return;
        }
        String name = field(header, 0, 100);
        String magic = field(header, 257, 6);
        if (magic.startsWith("ustar")) {
          String prefix = field(header, 345, 155);
          if (!prefix.isEmpty()) {
            name = prefix + "/" + name;
          }
        }
        long size = octal(header, 124, 12);
        char type = (char) header[156];
        long padded = (size + 511) / 512 * 512;
        if (type == 'L' || type == 'x') {
          byte[] data = in.readNBytes((int) size);
          skip(in, padded - size);
          String text = new String(data, StandardCharsets.UTF_8);
          if (type == 'L') {
            longName = text.replace("\0", "");
          } else {
            for (String rec : text.split("\n")) {
              int eq = rec.indexOf(" path=");
              if (eq >= 0) {
                longName = rec.substring(eq + 6);
              }
            }
          }
          continue;
        }
        if (longName != null) {
          name = longName;
          longName = null;
        }
        if (type != '0' && type != '\0' && type != '7') {
          skip(in, padded);
          continue;
        }
        Entry e = new Entry(name, size);
        if (!withBytes || size > maxEntryBytes) {
          skip(in, padded);
          v.entry(e, null);
        } else {
          byte[] data = in.readNBytes((int) size);
          skip(in, padded - size);
          v.entry(e, data);
        }
      }
    }
  }

  private static void skip(InputStream in, long n) throws IOException {
    in.skipNBytes(n);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String field(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static long octal(byte[] b, int off, int len) {
    if ((b[off] & 0x80) != 0) {
      // GNU base-256 for sizes past 8 GiB.
      long v = 0;
      for (int i = off + 1; i < off + len; i++) {
        v = (v << 8) | (b[i] & 0xff);
      }
      return v;
    }
    String s = field(b, off, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }

  @Override
  public void close() throws IOException {
    Files.deleteIfExists(file);
  }
}
