package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import com.google.protobuf.ByteString;
import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.Layer;
import crema.engine.OttoFixture;
import crema.engine.Rng;
import crema.engine.data.ImageDatums;
import crema.engine.data.LmdbWriter;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;

class DataLayerTest {
  @TempDir
  Path dir;

  private Layer dataLayer(String source, int batch, String transform) {
    return layer("type: 'Data' top: 'data' top: 'label' data_param { source: '" + source + "' batch_size: "
        + batch + " backend: LMDB } " + transform);
  }

  @Test
  void readsCaffesLmdbInKeyOrderAndWrapsAround() throws Exception {
    Path root = OttoFixture.copyTo(dir);
    List<String> csv = Files.readAllLines(root.resolve("data/test.csv"));
    Layer layer = dataLayer(root.resolve("data/test_lmdb").toString(), 100, "");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    try {
      for (int batch = 0; batch < 7; batch++) {
        layer.forward(list(), top);
        for (int i = 0; i < 100; i += 33) {
          int row = (batch * 100 + i) % 600;
          String[] f = csv.get(row + 1).split(",");
          for (int j = 0; j < 93; j++) {
            assertEquals((float) Math.log(Integer.parseInt(f[j + 1]) + 1.0), top.get(0).data()[i * 93 + j],
                "row " + row + " feature " + j);
          }
          assertEquals(Integer.parseInt(f[94].substring(6)) - 1, (int) top.get(1).data()[i], "label of row " + row);
        }
      }
      assertEquals(700, ((DataLayer) layer).readPosition());
    } finally {
      layer.close();
    }
  }

  @Test
  void transformSubtractsMeanThenScales() throws Exception {
    Path db = lmdb(List.of(Datum.newBuilder().setChannels(2).setHeight(1).setWidth(1).setLabel(3)
        .addFloatData(10).addFloatData(20).build()));
    Layer layer = dataLayer(db.toString(), 1, "transform_param { scale: 0.5 mean_value: 4 mean_value: 8 }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    layer.forward(list(), top);
    assertEquals(3f, top.get(0).data()[0]);
    assertEquals(6f, top.get(0).data()[1]);
    assertEquals(3f, top.get(1).data()[0]);
    layer.close();
  }

  @Test
  void meanFileIsALegacyBlobProtoSubtractedPerElement() throws Exception {
    Path db = lmdb(List.of(Datum.newBuilder().setChannels(2).setHeight(1).setWidth(1)
        .setData(ByteString.copyFrom(new byte[] {(byte) 200, 10})).build()));
    Path mean = dir.resolve("mean.binaryproto");
    Files.write(mean, caffe.Caffe.BlobProto.newBuilder().setNum(1).setChannels(2).setHeight(1).setWidth(1)
        .addData(100).addData(4).build().toByteArray());
    Layer layer = dataLayer(db.toString(), 1, "transform_param { scale: 0.5 mean_file: '" + mean + "' }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    layer.forward(list(), top);
    assertEquals(50f, top.get(0).data()[0], "uint8 200 read unsigned");
    assertEquals(3f, top.get(0).data()[1]);
    layer.close();
  }

  @Test
  void uint8BytesOfFloatFeaturesAreExplained() throws Exception {
    ByteBuffer raw = ByteBuffer.allocate(8 * 3);
    for (int i = 0; i < 3; i++) {
      raw.putDouble(i + 0.5);
    }
    Path db = lmdb(List.of(Datum.newBuilder().setChannels(3).setHeight(1).setWidth(1)
        .setData(ByteString.copyFrom(raw.array())).build()));
    Layer layer = dataLayer(db.toString(), 1, "");
    DataException e = assertThrows(DataException.class, () -> layer.setUp(list(), tops(2)));
    assertTrue(e.getMessage().contains("float64") && e.getMessage().contains("float_data"), e.getMessage());
    assertTrue(e.getMessage().contains("key '00000000'"), e.getMessage());
  }

  @Test
  void recordOfAnotherSizeIsNamed() throws Exception {
    Datum a = Datum.newBuilder().setChannels(2).setHeight(1).setWidth(1).addFloatData(1).addFloatData(2).build();
    Datum b = Datum.newBuilder().setChannels(3).setHeight(1).setWidth(1).addFloatData(1).addFloatData(2).addFloatData(3).build();
    Path db = lmdb(List.of(a, a, b));
    Layer layer = dataLayer(db.toString(), 3, "");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    DataException e = assertThrows(DataException.class, () -> layer.forward(list(), top));
    assertTrue(e.getMessage().contains("record 2") && e.getMessage().contains("3×1×1")
        && e.getMessage().contains("first record was 2×1×1"), e.getMessage());
    layer.close();
  }

  @Test
  void defaultLeveldbBackendGetsAHint() {
    Layer layer = layer("type: 'Data' top: 'data' data_param { source: 'x' batch_size: 1 }");
    DataException e = assertThrows(DataException.class, () -> layer.setUp(list(), tops(1)));
    assertTrue(e.getMessage().contains("backend: LMDB"), e.getMessage());
  }

  @Test
  void seekingRestartsPrefetchAtThePosition() throws Exception {
    Path root = OttoFixture.copyTo(dir);
    DataLayer a = (DataLayer) dataLayer(root.resolve("data/test_lmdb").toString(), 64, "");
    DataLayer b = (DataLayer) dataLayer(root.resolve("data/test_lmdb").toString(), 64, "");
    List<Blob> ta = tops(2);
    List<Blob> tb = tops(2);
    a.setUp(list(), ta);
    b.setUp(list(), tb);
    for (int i = 0; i < 12; i++) {
      a.forward(list(), ta);
    }
    b.forward(list(), tb);
    b.seekReadPosition(a.readPosition());
    a.forward(list(), ta);
    b.forward(list(), tb);
    for (int i = 0; i < 64 * 93; i++) {
      assertEquals(ta.get(0).data()[i], tb.get(0).data()[i]);
    }
    a.close();
    b.close();
  }

  /**
   * Random crops and mirrors draw in the prefetch thread from the transformer's own generator,
   * seeded from the layer's at set-up: the same seed gives the same batches, and the layer's
   * generator is not touched afterwards (the compute thread owns it).
   */
  @Test
  void randomCropAndMirrorAreReproducibleFromTheNetsSeed() throws Exception {
    Datum.Builder d = Datum.newBuilder().setChannels(1).setHeight(3).setWidth(3);
    for (int i = 0; i < 9; i++) {
      d.addFloatData(i);
    }
    Path db = lmdb(List.of(d.build()));
    float[][] batches = new float[2][];
    long[] afterSetUp = new long[2];
    for (int run = 0; run < 2; run++) {
      Layer layer = dataLayer(db.toString(), 64, "transform_param { crop_size: 2 mirror: true }");
      Rng rng = new Rng(11);
      layer.setRng(rng);
      List<Blob> top = tops(2);
      layer.setUp(list(), top);
      afterSetUp[run] = rng.nextLong();
      try {
        float[] all = new float[0];
        for (int b = 0; b < 3; b++) {
          layer.forward(list(), top);
          int n = all.length;
          all = Arrays.copyOf(all, n + top.get(0).count());
          System.arraycopy(top.get(0).data(), 0, all, n, top.get(0).count());
        }
        batches[run] = all;
      } finally {
        layer.close();
      }
    }
    org.junit.jupiter.api.Assertions.assertArrayEquals(batches[0], batches[1]);
    assertEquals(afterSetUp[0], afterSetUp[1]);
    java.util.Set<String> crops = new java.util.HashSet<>();
    for (int i = 0; i < batches[0].length; i += 4) {
      crops.add(Arrays.toString(Arrays.copyOfRange(batches[0], i, i + 4)));
    }
    assertTrue(crops.size() > 4, "crops and mirrors vary: " + crops);
  }

  private Path lmdb(List<Datum> records) throws Exception {
    Path db = Files.createTempDirectory(dir, "lmdb");
    try (Env<ByteBuffer> env = Env.create().setMapSize(1 << 20).open(db.toFile())) {
      Dbi<ByteBuffer> dbi = env.openDbi((byte[]) null, DbiFlags.MDB_CREATE);
      for (int i = 0; i < records.size(); i++) {
        byte[] k = String.format("%08d", i).getBytes(StandardCharsets.US_ASCII);
        byte[] v = records.get(i).toByteArray();
        ByteBuffer kb = ByteBuffer.allocateDirect(k.length).put(k).flip();
        ByteBuffer vb = ByteBuffer.allocateDirect(v.length).put(v).flip();
        dbi.put(kb, vb);
      }
    }
    return db;
  }

  /**
   * An LMDB of encoded PNG Datums (convert_imageset --encoded) trains on the same values as one of
   * raw pixel Datums: decoded as Caffe decodes them, colour as BGR planes, or grey with
   * force_gray; scale applies after decoding.
   */
  @Test
  void encodedImagesDecodeToTheRawPixels() throws Exception {
    Random r = new Random(3);
    Path raw = dir.resolve("raw_lmdb");
    Path encoded = dir.resolve("encoded_lmdb");
    Path grey = dir.resolve("grey_lmdb");
    try (LmdbWriter a = new LmdbWriter(raw);
        LmdbWriter b = new LmdbWriter(encoded);
        LmdbWriter g = new LmdbWriter(grey)) {
      for (int k = 0; k < 4; k++) {
        BufferedImage image = new BufferedImage(5, 4,
            BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
          for (int x = 0; x < 5; x++) {
            image.setRGB(x, y, r.nextInt(1 << 24));
          }
        }
        Path png = dir.resolve(k + ".png");
        ImageIO.write(image, "png", png.toFile());
        var options = ImageDatums.Options.raw();
        a.put(String.format("%08d", k), ImageDatums.read(png, k, options).toByteArray());
        b.put(String.format("%08d", k), ImageDatums.read(png, k,
            new ImageDatums.Options(0, 0, false, "auto")).toByteArray());
        g.put(String.format("%08d", k), ImageDatums.read(png, k,
            new ImageDatums.Options(0, 0, true, "")).toByteArray());
      }
    }
    String scale = "transform_param { scale: 0.00390625 }";
    float[][] out = new float[3][];
    String[] sources = {raw.toString(), encoded.toString(), encoded.toString()};
    String[] transforms = {scale, scale, "transform_param { scale: 0.00390625 force_gray: true }"};
    for (int v = 0; v < 3; v++) {
      Layer layer = dataLayer(sources[v], 4, transforms[v]);
      List<Blob> top = tops(2);
      layer.setUp(list(), top);
      try {
        layer.forward(list(), top);
        out[v] = top.get(0).data().clone();
        assertEquals(v == 2 ? List.of(4, 1, 4, 5) : List.of(4, 3, 4, 5),
            Arrays.stream(top.get(0).shape()).boxed().toList());
        assertEquals(3f, top.get(1).data()[3]);
      } finally {
        layer.close();
      }
    }
    assertEquals(Arrays.toString(out[0]), Arrays.toString(out[1]));
    Layer greyLayer = dataLayer(grey.toString(), 4, scale);
    List<Blob> top = tops(2);
    greyLayer.setUp(list(), top);
    try {
      greyLayer.forward(list(), top);
      assertEquals(Arrays.toString(top.get(0).data()), Arrays.toString(out[2]),
          "force_gray decodes as convert_imageset --gray converts");
    } finally {
      greyLayer.close();
    }
  }
}
