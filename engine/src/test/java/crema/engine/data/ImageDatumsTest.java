package crema.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images to Datums as Caffe's io.cpp makes them with OpenCV: BGR planes, grey, encoded, resized. */
class ImageDatumsTest {
  @TempDir
  Path tmp;

  /** A 3×2 colour image whose pixel (x, y) is r = 10x + y, g = 100 + x, b = 200 − y. */
  private Path colourPng() throws IOException {
    BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        image.setRGB(x, y, ((10 * x + y) << 16) | ((100 + x) << 8) | (200 - y));
      }
    }
    Path file = tmp.resolve("colour.png");
    ImageIO.write(image, "png", file.toFile());
    return file;
  }

  @Test
  void rawColourIsBgrPlanesInRowOrder() throws IOException {
    Datum d = ImageDatums.read(colourPng(), 4, ImageDatums.Options.raw());
    assertEquals(3, d.getChannels());
    assertEquals(2, d.getHeight());
    assertEquals(3, d.getWidth());
    assertEquals(4, d.getLabel());
    byte[] data = d.getData().toByteArray();
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        int i = y * 3 + x;
        assertEquals(200 - y, data[i] & 0xff, "blue plane first");
        assertEquals(100 + x, data[6 + i] & 0xff, "then green");
        assertEquals(10 * x + y, data[12 + i] & 0xff, "then red");
      }
    }
  }

  @Test
  void greyIsOpenCvsWeightedSum() throws IOException {
    Datum d = ImageDatums.read(colourPng(), 0, new ImageDatums.Options(0, 0, true, ""));
    assertEquals(1, d.getChannels());
    byte[] data = d.getData().toByteArray();
    assertEquals(Math.round(0.299 * 21 + 0.587 * 102 + 0.114 * 199), data[5] & 0xff, "pixel (2, 1)");
  }

  @Test
  void greyPngKeepsItsExactValues() throws IOException {
    BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 256; i++) {
      image.getRaster().setSample(i % 16, i / 16, 0, i);
    }
    Path file = tmp.resolve("grey.png");
    ImageIO.write(image, "png", file.toFile());
    Datum d = ImageDatums.read(file, 0, new ImageDatums.Options(0, 0, true, ""));
    byte[] data = d.getData().toByteArray();
    for (int i = 0; i < 256; i++) {
      assertEquals(i, data[i] & 0xff, "sample " + i + " unchanged by colour spaces");
    }
    assertArrayEquals(data, ImageDatums.toDatum(ImageDatums.toImage(d), true).getData().toByteArray());
  }

  @Test
  void encodedKeepsTheFileAndDecodesToTheRawDatum() throws IOException {
    Path png = colourPng();
    Datum encoded = ImageDatums.read(png, 7, new ImageDatums.Options(0, 0, false, "auto"));
    assertTrue(encoded.getEncoded());
    assertArrayEquals(Files.readAllBytes(png), encoded.getData().toByteArray(), "the file's own bytes");
    Datum raw = ImageDatums.read(png, 7, ImageDatums.Options.raw());
    assertEquals(raw, ImageDatums.decode(encoded));
    Datum reencoded = ImageDatums.read(png, 7, new ImageDatums.Options(0, 0, false, "jpg"));
    assertTrue(reencoded.getEncoded());
    assertEquals(raw.getData().size(), ImageDatums.decode(reencoded).getData().size(), "JPEG decodes to 3x2x3");
  }

  @Test
  void resizeIsBilinearWithAlignedCentres() throws IOException {
    Datum d = ImageDatums.read(colourPng(), 0, new ImageDatums.Options(4, 6, false, ""));
    assertEquals(4, d.getHeight());
    assertEquals(6, d.getWidth());
    byte[] data = d.getData().toByteArray();
    // Red = 10x + y is linear, so upsampling by 2 gives (x' + 0.5)/2 − 0.5, clamped at the border.
    int redPlane = 2 * 24;
    assertEquals(0, data[redPlane] & 0xff, "top-left clamps to the source's first pixel");
    assertEquals(Math.round(10 * ((3 + 0.5) / 2 - 0.5) + ((1 + 0.5) / 2 - 0.5)), data[redPlane + 6 + 3] & 0xff);
  }

  @Test
  void meanIsPerElementAsComputeImageMean() throws IOException {
    Datum a = ImageDatums.read(colourPng(), 0, ImageDatums.Options.raw());
    Datum b = a.toBuilder().setData(com.google.protobuf.ByteString.copyFrom(new byte[18])).build();
    BlobProto mean = ImageDatums.mean(List.of(a, b));
    assertEquals(1, mean.getNum());
    assertEquals(3, mean.getChannels());
    assertEquals(200 / 2.0, mean.getData(0), 1e-6);
    Datum small = ImageDatums.read(colourPng(), 0, new ImageDatums.Options(1, 1, false, ""));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageDatums.mean(List.of(a, small)))
        .getMessage().contains("one size"));
  }

  @Test
  void aFileThatIsNoImageIsNamed() throws IOException {
    Path bad = Files.writeString(tmp.resolve("notes.png"), "not an image");
    IOException e = assertThrows(IOException.class, () -> ImageDatums.read(bad, 0, ImageDatums.Options.raw()));
    assertTrue(e.getMessage().contains("notes.png"), e.getMessage());
  }
}
