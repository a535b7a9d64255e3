package crema.ingest;

import static crema.ingest.IngestServiceTest.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import crema.bus.EmbeddedBroker;
import crema.bus.Topics;
import crema.engine.data.ImageDatums;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Image archives and CSV pixel rows with a shape become image Datums; every bad image is a dead letter naming it. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageIngestTest implements TestPropertyProvider {
  @Inject
  @Client("/")
  HttpClient http;

  @Override
  public Map<String, String> getProperties() {
    // One partition: these tests check the records in the order ingest sent them (how Kafka
    // spreads them over partitions is the pipeline tests' subject).
    return Map.of("crema.topics.datums-partitions", "1", "micronaut.server.port", "-1", "kafka.bootstrap.servers",
        EmbeddedBroker.shared().bootstrapServers());
  }

  /** A 4×4 grey image whose pixels are {@code seed * 16 + i}. */
  static byte[] greyPixels(int seed) {
    byte[] px = new byte[16];
    for (int i = 0; i < 16; i++) {
      px[i] = (byte) (seed * 16 + i);
    }
    return px;
  }

  static byte[] png(byte[] px, int h, int w) {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.getRaster().setSample(x, y, 0, px[(y * w + x) % px.length] & 0xff);
      }
    }
    return ImageDatums.png(image);
  }

  static byte[] zip(Map<String, byte[]> entries) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(buf)) {
      for (var e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return buf.toByteArray();
  }

  private static List<DeadLetter> letters(String dataset) throws Exception {
    List<DeadLetter> out = new ArrayList<>();
    for (var r : readAll(Topics.DEAD_LETTER)) {
      DeadLetter d = DeadLetter.parseFrom(r.value());
      if (d.getDataset().equals(dataset)) {
        out.add(d);
      }
    }
    return out;
  }

  private static DatasetSchema schema(String dataset) throws Exception {
    DatasetSchema s = null;
    for (var r : readAll(Topics.DATASETS)) {
      if (r.key().equals(dataset)) {
        s = DatasetSchema.parseFrom(r.value());
      }
    }
    return s;
  }

  @Test
  void aZipOfPngsInTwoFoldersBecomesLabelledImageDatumsAndACorruptEntryADeadLetter() throws Exception {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    Map<String, byte[]> pixels = new HashMap<>();
    // "dog" first in the archive: label indices still follow the sorted names (cat 0, dog 1).
    for (int i = 0; i < 3; i++) {
      pixels.put("dog/" + i + ".png", greyPixels(i + 4));
      entries.put("dog/" + i + ".png", png(greyPixels(i + 4), 4, 4));
    }
    entries.put("dog/broken.png", "not a png at all".getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < 3; i++) {
      pixels.put("cat/" + i + ".png", greyPixels(i));
      entries.put("cat/" + i + ".png", png(greyPixels(i), 4, 4));
    }
    entries.put("cat/wide.png", png(greyPixels(9), 4, 6));
    var reply = http.toBlocking().retrieve(HttpRequest.POST("/v1/datasets/pets/images?gray=true&source=pets.zip",
        zip(entries)).contentType(MediaType.of("application/zip")), Map.class);
    assertEquals(8, ((Number) reply.get("received")).intValue());
    assertEquals(6, ((Number) reply.get("accepted")).intValue());
    assertEquals(2, ((Number) reply.get("rejected")).intValue());
    assertEquals(List.of("cat", "dog"), reply.get("labels"));

    var datums = readAll(Topics.datums("pets", "train"));
    assertEquals(6, datums.size());
    for (var rec : datums) {
      Datum d = Datum.parseFrom(rec.value());
      assertEquals(1, d.getChannels());
      assertEquals(4, d.getHeight());
      assertEquals(4, d.getWidth());
      assertEquals(rec.key().startsWith("cat/") ? 0 : 1, d.getLabel(), rec.key());
      assertArrayEquals(pixels.get(rec.key()), d.getData().toByteArray(), rec.key());
    }
    List<DeadLetter> letters = letters("pets");
    assertEquals(2, letters.size());
    assertEquals("dog/broken.png", letters.get(0).getRawLine());
    assertTrue(letters.get(0).getReason().startsWith("dog/broken.png: "), letters.get(0).getReason());
    assertTrue(letters.get(0).getReason().contains("not an image"), letters.get(0).getReason());
    assertEquals("pets.zip", letters.get(0).getSource());
    assertTrue(letters.get(1).getReason().startsWith("cat/wide.png: 1x4x6"), letters.get(1).getReason());

    DatasetSchema s = schema("pets");
    assertEquals(List.of("cat", "dog"), s.getLabelNamesList());
    assertEquals(List.of(3L, 3L), s.getCountsBySplitMap().get("train").getCountList());
    assertEquals(16, s.getFeatureNamesCount());
  }

  @Test
  void anImageTooLargeForADatumRecordIsADeadLetterAndTheRestGoIn() throws Exception {
    // 200 x 200 grey is 40,000 values: fine (its schema, a name and statistics per pixel, is
    // over 1 MiB: crema.datasets takes it). 1,100 x 1,000 is 1.1 MB of pixels: over Kafka's default
    // record limit, which the datums topics keep.
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("a/small.png", png(greyPixels(1), 200, 200));
    entries.put("a/huge.png", png(greyPixels(2), 1100, 1000));
    entries.put("a/small2.png", png(greyPixels(3), 200, 200));
    var reply = http.toBlocking().retrieve(HttpRequest.POST("/v1/datasets/huge/images?gray=true&source=huge.zip",
        zip(entries)).contentType(MediaType.of("application/zip")), Map.class);
    assertEquals(3, ((Number) reply.get("received")).intValue());
    assertEquals(2, ((Number) reply.get("accepted")).intValue());
    assertEquals(1, ((Number) reply.get("rejected")).intValue());
    assertEquals(2, readAll(Topics.datums("huge", "train")).size());
    List<DeadLetter> letters = letters("huge");
    assertEquals(1, letters.size());
    assertEquals("a/huge.png", letters.get(0).getRawLine());
    assertTrue(letters.get(0).getReason().startsWith("a/huge.png: its Datum is 110001"), letters.get(0).getReason());
    assertTrue(letters.get(0).getReason().contains("max.message.bytes"), letters.get(0).getReason());
    DatasetSchema schema = schema("huge");
    assertEquals(40_000, schema.getFeatureNamesCount());
    assertTrue(schema.getSerializedSize() > 1 << 20, "schema of " + schema.getSerializedSize() + " bytes");
  }

  @Test
  void aListFileLabelsTheEntriesResizesAndEncodedKeepsTheFiles() throws Exception {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("img/a.png", png(greyPixels(1), 8, 8));
    entries.put("img/b.png", png(greyPixels(2), 8, 8));
    entries.put("img/c.png", png(greyPixels(3), 8, 8));
    entries.put("list.txt", "img/a.png 1\nimg/b.png 0\nimg/c.png 7\nimg/gone.png 0\n".getBytes(StandardCharsets.UTF_8));
    var reply = http.toBlocking().retrieve(HttpRequest.POST(
        "/v1/datasets/listed/images?list=list.txt&gray=true&resize_height=4&resize_width=4&labels=0,1&encoded=true",
        zip(entries)).contentType(MediaType.APPLICATION_OCTET_STREAM_TYPE), Map.class);
    assertEquals(2, ((Number) reply.get("accepted")).intValue());
    assertEquals(2, ((Number) reply.get("rejected")).intValue());
    var datums = readAll(Topics.datums("listed", "train"));
    assertEquals(List.of("img/a.png", "img/b.png"), datums.stream().map(r -> r.key()).toList());
    Datum a = Datum.parseFrom(datums.get(0).value());
    assertTrue(a.getEncoded());
    assertEquals(1, a.getLabel());
    Datum decoded = ImageDatums.decode(a);
    assertEquals(4, decoded.getHeight());
    assertEquals(4, decoded.getWidth());
    List<String> reasons = letters("listed").stream().map(DeadLetter::getReason).toList();
    assertTrue(reasons.get(0).startsWith("img/c.png: unknown label '7'"), reasons.toString());
    assertTrue(reasons.get(1).startsWith("img/gone.png: listed in list.txt"), reasons.toString());
  }

  @Test
  void csvPixelRowsWithAShapeBecomeImageDatums() throws Exception {
    StringBuilder csv = new StringBuilder("id,label");
    for (int i = 0; i < 16; i++) {
      csv.append(",p").append(i);
    }
    csv.append('\n');
    for (int r = 0; r < 3; r++) {
      csv.append("r").append(r).append(',').append(r % 2);
      for (int i = 0; i < 16; i++) {
        csv.append(',').append(r * 16 + i);
      }
      csv.append('\n');
    }
    csv.append("bad,1");
    for (int i = 0; i < 16; i++) {
      csv.append(',').append(i == 5 ? "0.5" : "3");
    }
    csv.append('\n');
    var reply = http.toBlocking().retrieve(HttpRequest.POST(
        "/v1/datasets/pixels/rows?id=id&label=label&shape=1,4,4", csv.toString())
        .contentType(MediaType.of("text/csv")), Map.class);
    assertEquals(3, ((Number) reply.get("accepted")).intValue());
    assertEquals(1, ((Number) reply.get("rejected")).intValue());
    var datums = readAll(Topics.datums("pixels", "train"));
    assertEquals(3, datums.size());
    for (int r = 0; r < 3; r++) {
      Datum d = Datum.parseFrom(datums.get(r).value());
      assertEquals("r" + r, datums.get(r).key());
      assertEquals(0, d.getFloatDataCount());
      assertEquals(List.of(1, 4, 4), List.of(d.getChannels(), d.getHeight(), d.getWidth()));
      assertArrayEquals(greyPixels(r), d.getData().toByteArray());
      assertEquals(r % 2, d.getLabel());
    }
    DeadLetter dl = letters("pixels").get(0);
    assertEquals(5, dl.getLineNumber());
    assertTrue(dl.getReason().contains("column 'p5': 0.5 is not a pixel value"), dl.getReason());
  }
}
