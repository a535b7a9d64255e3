package crema.engine.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.BlobShape;
import caffe.Caffe.Datum;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Net;
import crema.engine.csv.RowRejectedException;
import crema.engine.data.LmdbWriter;
import crema.engine.io.Prototxt;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model contract turns raw rows into exactly what the TEST net's Data layer fed the net: each
 * field of the contract checked against a real Data layer reading the same Datums from LMDB.
 */
class ModelContractTest {
  @TempDir
  Path tmp;

  /** Datums of shape c×h×w with integer "pixel" values, written to an LMDB. */
  private float[][] writeLmdb(Path dir, int n, int c, int h, int w) {
    Random r = new Random(7);
    float[][] rows = new float[n][c * h * w];
    try (LmdbWriter out = new LmdbWriter(dir)) {
      for (int i = 0; i < n; i++) {
        Datum.Builder d = Datum.newBuilder().setChannels(c).setHeight(h).setWidth(w).setLabel(i % 3);
        for (int j = 0; j < rows[i].length; j++) {
          rows[i][j] = r.nextInt(256);
          d.addFloatData(rows[i][j]);
        }
        out.put(String.format("%08d", i), d.build().toByteArray());
      }
    }
    return rows;
  }

  /** The TEST net's data blob after one forward, one row per example. */
  private static float[][] testNetBatch(NetParameter net, int n) {
    try (Net built = new Net(net, Net.state(net, Phase.TEST, 0, List.of()))) {
      built.forward();
      var data = built.blob("data");
      int size = data.count() / data.shape(0);
      float[][] out = new float[n][];
      for (int i = 0; i < n; i++) {
        out[i] = java.util.Arrays.copyOfRange(data.data(), i * size, (i + 1) * size);
      }
      return out;
    }
  }

  private static NetParameter net(Path lmdb, int batch, String transform) {
    return Prototxt.parseNet("""
        layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TRAIN }
          data_param { source: "/nonexistent" batch_size: 1 backend: LMDB } }
        layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TEST }
          transform_param { %s }
          data_param { source: "%s" batch_size: %d backend: LMDB } }
        """.formatted(transform, lmdb, batch), "test net");
  }

  private void assertSameAsTestNet(String transform, int c, int h, int w) throws Exception {
    Path lmdb = tmp.resolve("lmdb-" + Math.abs(transform.hashCode()));
    float[][] raw = writeLmdb(lmdb, 6, c, h, w);
    NetParameter net = net(lmdb, 6, transform);
    ModelContract contract = ModelContract.of(ModelContract.fromNet(net).addInputShape(c).addInputShape(h)
        .addInputShape(w).build(), 0);
    float[][] expected = testNetBatch(net, 6);
    float[][] got = contract.prepare(raw);
    for (int i = 0; i < 6; i++) {
      assertArrayEquals(expected[i], got[i], 0f, transform + ", row " + i);
    }
    assertEquals(expected[0].length, contract.inputSize());
  }

  @Test
  void scaleAsTheTestNetSawIt() throws Exception {
    assertSameAsTestNet("scale: 0.0625", 8, 1, 1);
  }

  @Test
  void meanValuePerChannelThenScale() throws Exception {
    assertSameAsTestNet("scale: 0.00390625 mean_value: 104 mean_value: 117 mean_value: 123", 3, 4, 5);
  }

  @Test
  void centreCropInTest() throws Exception {
    assertSameAsTestNet("crop_size: 3 mirror: true mean_value: 100", 2, 6, 5);
  }

  @Test
  void meanFileIsCarriedAsValues() throws Exception {
    BlobProto.Builder mean = BlobProto.newBuilder().setShape(BlobShape.newBuilder().addDim(1).addDim(2).addDim(4)
        .addDim(4));
    for (int i = 0; i < 32; i++) {
      mean.addData(i * 3.5f);
    }
    Path meanFile = tmp.resolve("mean.binaryproto");
    Files.write(meanFile, mean.build().toByteArray());
    assertSameAsTestNet("mean_file: \"" + meanFile + "\" scale: 0.5 crop_size: 2", 2, 4, 4);
    // The contract names no file: a checkpoint read elsewhere needs none.
    var proto = ModelContract.fromNet(net(tmp, 1, "mean_file: \"" + meanFile + "\"")).build();
    assertTrue(!proto.getTransform().hasMeanFile() && proto.getMeanCount() == 32);
  }

  private static ModelContract otto() {
    return ModelContract.of(crema.proto.ModelContract.newBuilder().addAllFeatureNames(List.of("f1", "f2", "f3"))
        .setIdColumn("id").setLabelColumn("target").addAllLabelNames(List.of("Class_1", "Class_2")).setLog1P(true)
        .build(), 3);
  }

  private static ContractRows csv(ModelContract c, String text, ContractRows.Options o) throws Exception {
    return ContractRows.csv(c, 2, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), 1 << 20, o);
  }

  @Test
  void columnsByNameInAnyOrderWithIdLabelAndLog1p() throws Exception {
    try (ContractRows rows = csv(otto(), "target,f3,id,f1,f2\nClass_2,3,row-9,0,1\n", ContractRows.Options.NONE)) {
      assertTrue(rows.hasId() && rows.hasLabel());
      ContractRows.Row r = rows.next();
      assertEquals("row-9", r.id());
      assertEquals(1, r.label());
      assertArrayEquals(new float[] {(float) Math.log(1.0), (float) Math.log(2.0), (float) Math.log(4.0)}, r.values());
      assertNull(rows.next());
    }
  }

  @Test
  void idAndLabelAreOptionalAndOptionsOverride() throws Exception {
    try (ContractRows rows = csv(otto(), "f1,f2,f3\n0,1,3\n", new ContractRows.Options(null, null, false, false))) {
      ContractRows.Row r = rows.next();
      assertTrue(!rows.hasId() && !rows.hasLabel());
      assertNull(r.id());
      assertEquals(-1, r.label());
      assertArrayEquals(new float[] {0, 1, 3}, r.values(), "log1p=false overrides the contract");
    }
  }

  @Test
  void missingUnknownAndBadValuesAreNamed() throws Exception {
    var missing = assertThrows(IllegalArgumentException.class, () -> csv(otto(), "id,f1,f3\n", ContractRows.Options.NONE));
    assertTrue(missing.getMessage().contains("no column 'f2'"), missing.getMessage());
    var strict = assertThrows(IllegalArgumentException.class,
        () -> csv(otto(), "id,f1,f2,f3,extra\n", new ContractRows.Options(null, null, null, true)));
    assertTrue(strict.getMessage().contains("'extra'"), strict.getMessage());
    try (ContractRows lenient = csv(otto(), "id,f1,f2,f3,extra\n1,0,0,0,zzz\n", ContractRows.Options.NONE)) {
      assertEquals(3, lenient.next().values().length, "an unknown column is ignored outside strict mode");
    }
    try (ContractRows rows = csv(otto(), "id,f1,f2,f3\n1,0,x,0\n", ContractRows.Options.NONE)) {
      var bad = assertThrows(RowRejectedException.class, rows::next);
      assertTrue(bad.getMessage().contains("line 2") && bad.getMessage().contains("'f2'"), bad.getMessage());
    }
    try (ContractRows rows = csv(otto(), "id,f1,f2,f3,target\n1,0,0,0,Class_9\n", ContractRows.Options.NONE)) {
      var bad = assertThrows(RowRejectedException.class, rows::next);
      assertTrue(bad.getMessage().contains("Class_9"), bad.getMessage());
    }
  }

  @Test
  void jsonInstancesAsArraysOrObjects() throws Exception {
    var a = ContractRows.instance(otto(), 2, List.of(0, 1.0, 3), 0, ContractRows.Options.NONE);
    var o = ContractRows.instance(otto(), 2, Map.of("f3", 3, "f1", 0, "f2", 1, "id", "x", "target", "Class_1"), 1,
        ContractRows.Options.NONE);
    assertArrayEquals(a.values(), o.values());
    assertEquals("x", o.id());
    assertEquals(0, o.label());
    var missing = assertThrows(RowRejectedException.class,
        () -> ContractRows.instance(otto(), 2, Map.of("f1", 0, "f2", 1), 2, ContractRows.Options.NONE));
    assertTrue(missing.getMessage().contains("instance 2") && missing.getMessage().contains("'f3'"));
    var nan = assertThrows(RowRejectedException.class,
        () -> ContractRows.instance(otto(), 2, List.of(0, "NaN", 1), 3, ContractRows.Options.NONE));
    assertTrue(nan.getMessage().contains("instance 3"), nan.getMessage());
  }

  @Test
  void scoresAsCaffeAccuracyAndSoftmaxLoss() {
    Scores s = new Scores();
    s.add(new float[] {0.2f, 0.8f}, 1);
    s.add(new float[] {0.5f, 0.5f}, 0); // a tie is wrong, as in Caffe's AccuracyLayer
    s.add(new float[] {1f, 0f}, 1);
    assertEquals(1.0 / 3, s.accuracy(), 1e-12);
    assertEquals((-Math.log(0.8f) - Math.log(0.5f) - Math.log(Float.MIN_NORMAL)) / 3, s.loss(), 1e-9);
  }
}
