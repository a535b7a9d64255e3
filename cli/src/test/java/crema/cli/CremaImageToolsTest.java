package crema.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import crema.engine.data.ImageDatums;
import crema.engine.data.LmdbCursor;
import crema.engine.io.BinaryProto;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert_imageset and compute_image_mean, run as Caffe users run them. */
class CremaImageToolsTest {
  @TempDir
  static Path root;

  /** Four 4×3 PNGs in two folders (cat: all pixels (40, 80, 120), dog: (200, 100, 0)) and a list file. */
  @BeforeAll
  static void images() throws Exception {
    int[][] colours = {{40, 80, 120}, {200, 100, 0}};
    StringBuilder list = new StringBuilder();
    for (int label = 0; label < 2; label++) {
      String folder = label == 0 ? "cat" : "dog";
      Files.createDirectories(root.resolve("images").resolve(folder));
      for (int k = 0; k < 2; k++) {
        BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
        int[] c = colours[label];
        for (int y = 0; y < 3; y++) {
          for (int x = 0; x < 4; x++) {
            image.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
          }
        }
        String path = folder + "/" + k + ".png";
        ImageIO.write(image, "png", root.resolve("images").resolve(path).toFile());
        list.append(path).append(' ').append(label).append('\n');
      }
    }
    Files.writeString(root.resolve("list.txt"), list.toString());
  }

  private static List<Datum> read(Path db, List<String> keys) {
    List<Datum> out = new ArrayList<>();
    try (LmdbCursor c = LmdbCursor.open(db.toString())) {
      for (long i = 0; i < c.size(); i++) {
        keys.add(c.key());
        out.add(c.next());
      }
    }
    return out;
  }

  @Test
  void convertImagesetWritesBgrDatumsUnderCaffesKeys() throws Exception {
    var r = CremaProcess.run(root, "convert_imageset", "images/", "list.txt", "raw_lmdb");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().contains("A total of 4 images.") && r.log().contains("Processed 4 files."), r.log());
    List<String> keys = new ArrayList<>();
    List<Datum> datums = read(root.resolve("raw_lmdb"), keys);
    assertEquals(List.of("00000000_cat/0.png", "00000001_cat/1.png", "00000002_dog/0.png", "00000003_dog/1.png"), keys);
    Datum dog = datums.get(2);
    assertEquals(1, dog.getLabel());
    assertEquals(3, dog.getChannels());
    assertEquals(3, dog.getHeight());
    assertEquals(4, dog.getWidth());
    byte[] data = dog.getData().toByteArray();
    assertEquals(0, data[0] & 0xff, "blue plane first");
    assertEquals(200, data[24] & 0xff, "red plane last");
  }

  @Test
  void encodedGreyAndResizedAsAsked() throws Exception {
    var r = CremaProcess.run(root, "convert_imageset", "--encoded", "--shuffle", "images/", "list.txt", "enc_lmdb");
    assertEquals(0, r.exitCode(), r.log());
    List<Datum> encoded = read(root.resolve("enc_lmdb"), new ArrayList<>());
    for (Datum d : encoded) {
      assertTrue(d.getEncoded());
      assertEquals(36, ImageDatums.decode(d).getData().size());
    }
    r = CremaProcess.run(root, "convert_imageset", "--gray", "--resize_height", "6", "--resize_width", "8",
        "images/", "list.txt", "grey_lmdb");
    assertEquals(0, r.exitCode(), r.log());
    Datum grey = read(root.resolve("grey_lmdb"), new ArrayList<>()).get(0);
    assertEquals(1, grey.getChannels());
    assertEquals(6, grey.getHeight());
    assertEquals(8, grey.getWidth());
    assertEquals(Math.round(0.299 * 40 + 0.587 * 80 + 0.114 * 120), grey.getData().byteAt(0) & 0xff);
  }

  @Test
  void computeImageMeanWritesTheBinaryprotoAndChannelMeans() throws Exception {
    assertEquals(0, CremaProcess.run(root, "convert_imageset", "images/", "list.txt", "mean_lmdb").exitCode());
    var r = CremaProcess.run(root, "compute_image_mean", "mean_lmdb", "mean.binaryproto");
    assertEquals(0, r.exitCode(), r.log());
    BlobProto mean = BinaryProto.readBlob(root.resolve("mean.binaryproto"));
    assertArrayEquals(new int[] {1, 3, 3, 4}, new int[] {mean.getNum(), mean.getChannels(), mean.getHeight(), mean.getWidth()});
    assertEquals((120 + 0) / 2.0, mean.getData(0), 1e-6, "blue");
    assertEquals((40 + 200) / 2.0, mean.getData(24), 1e-6, "red");
    assertTrue(r.log().contains("mean_value channel [0]: 60.0"), r.log());
    assertTrue(r.log().contains("mean_value channel [2]: 120.0"), r.log());
  }

  @Test
  void anUnreadableImageIsNamedAndSkipped() throws Exception {
    Files.writeString(root.resolve("images/broken.png"), "no image");
    Files.writeString(root.resolve("bad_list.txt"), "cat/0.png 0\nbroken.png 1\nmissing.png 1\n");
    var r = CremaProcess.run(root, "convert_imageset", "images/", "bad_list.txt", "bad_lmdb");
    assertEquals(2, r.exitCode(), r.log());
    assertTrue(r.log().contains("bad_list.txt:2: could not read") && r.log().contains("broken.png"), r.log());
    assertTrue(r.log().contains("bad_list.txt:3: could not read"), r.log());
    assertEquals(1, read(root.resolve("bad_lmdb"), new ArrayList<>()).size(), "the good image is kept");
  }

  /**
   * `crema convert --shape 1,28,28` on the MNIST test split's CSV writes the records Caffe's own
   * convert_mnist_data wrote for the same digits (fixtures/vision-mini/lenet): byte for byte, under
   * the same keys.
   */
  @Test
  void convertShapeWritesCaffesMnistRecords() throws Exception {
    Path lenet = root.resolve("lenet");
    Files.createDirectories(lenet);
    Path fixture = Path.of("..", "fixtures", "vision-mini", "lenet", "data");
    try (var in = new GZIPInputStream(Files.newInputStream(fixture.resolve("test.csv.gz")))) {
      Files.copy(in, lenet.resolve("test.csv"));
    }
    Path caffeDb = Files.createDirectories(lenet.resolve("caffe_test_lmdb"));
    try (var in = new GZIPInputStream(Files.newInputStream(fixture.resolve("test_lmdb/data.mdb.gz")))) {
      Files.copy(in, caffeDb.resolve("data.mdb"));
    }
    var r = CremaProcess.run(lenet, "convert", "test.csv", "test_lmdb", "--label-column", "label", "--shape", "1,28,28");
    assertEquals(0, r.exitCode(), r.log());
    List<String> caffeKeys = new ArrayList<>();
    List<String> cremaKeys = new ArrayList<>();
    List<Datum> caffe = read(caffeDb, caffeKeys);
    List<Datum> crema = read(lenet.resolve("test_lmdb"), cremaKeys);
    assertEquals(2000, caffe.size());
    assertEquals(caffeKeys, cremaKeys);
    for (int i = 0; i < caffe.size(); i++) {
      assertArrayEquals(caffe.get(i).toByteArray(), crema.get(i).toByteArray(), "record " + caffeKeys.get(i));
    }
  }
}
