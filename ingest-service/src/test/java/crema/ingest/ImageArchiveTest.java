package crema.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tar archives as ustar, GNU (long names) and pax (path records) write them; what is neither tar nor zip is refused. */
class ImageArchiveTest {
  private static void header(ByteArrayOutputStream out, String name, long size, char type, String prefix) {
    byte[] h = new byte[512];
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
    byte[] s = String.format("%011o", size).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(s, 0, h, 124, s.length);
    h[156] = (byte) type;
    System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
    byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(p, 0, h, 345, p.length);
    out.writeBytes(h);
  }

  private static void file(ByteArrayOutputStream out, String name, byte[] data, char type, String prefix) {
    header(out, name, data.length, type, prefix);
    out.writeBytes(data);
    out.writeBytes(new byte[(512 - data.length % 512) % 512]);
  }

  @Test
  void readsUstarGnuAndPaxNames() throws Exception {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    header(tar, "cat/", 0, '5', "");
    file(tar, "cat/1.png", new byte[] {1, 2, 3}, '0', "");
    file(tar, "2.png", new byte[700], '0', "deep/dog");
    String longName = "x".repeat(120) + "/3.png";
    file(tar, "././@LongLink", (longName + "\0").getBytes(StandardCharsets.UTF_8), 'L', "");
    file(tar, "trunc", new byte[] {4}, '0', "");
    String pax = "bird/4.png";
    String rec = " path=" + pax + "\n";
    rec = (rec.length() + 2) + rec;
    file(tar, "PaxHeader", rec.getBytes(StandardCharsets.UTF_8), 'x', "");
    file(tar, "short", new byte[] {5, 6}, '0', "");
    tar.writeBytes(new byte[1024]);
    try (ImageArchive a = ImageArchive.spool(new ByteArrayInputStream(tar.toByteArray()), 1 << 20)) {
      assertEquals(List.of("cat/1.png", "deep/dog/2.png", longName, pax),
          a.entries().stream().map(ImageArchive.Entry::name).toList());
      List<byte[]> bytes = new ArrayList<>();
      a.read((e, b) -> bytes.add(b));
      assertArrayEquals(new byte[] {1, 2, 3}, bytes.get(0));
      assertEquals(700, bytes.get(1).length);
      assertArrayEquals(new byte[] {5, 6}, a.bytesOf(pax));
    }
  }

  @Test
  void neitherZipNorTarIsRefused() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> ImageArchive.spool(new ByteArrayInputStream("id,x\n1,2\n".getBytes(StandardCharsets.UTF_8)), 100));
    assertEquals("the body is neither a zip nor a tar archive", e.getMessage());
  }
}
