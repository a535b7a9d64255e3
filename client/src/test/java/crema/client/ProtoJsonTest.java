package crema.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import caffe.Caffe.TransformationParameter;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import crema.proto.Checkpoint;
import crema.proto.ModelContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProtoJsonTest {
  static final ModelContract CONTRACT = ModelContract.newBuilder().setDataset("otto").addFeatureNames("feat_1")
      .addFeatureNames("feat\"2").setIdColumn("id").setLabelColumn("target").addAllLabelNames(List.of("A", "B"))
      .setLog1P(true).addInputShape(93).addInputShape(1).addInputShape(1)
      .setTransform(TransformationParameter.newBuilder().setScale(0.0625f).setMirror(true).addMeanValue(0.1f))
      .addMean(1.5f).addMean(-2e-8f).build();

  @Test
  void theContractReadsBackWithProtobufsJsonFormat() throws Exception {
    String json = ProtoJson.print(CONTRACT);
    ModelContract.Builder back = ModelContract.newBuilder();
    JsonFormat.parser().merge(json, back);
    assertEquals(CONTRACT, back.build());
    // And means the same as protobuf's own printer's output.
    assertEquals(Json.parse(JsonFormat.printer().print(CONTRACT)), Json.parse(json));
  }

  @Test
  void aCheckpointWithMapsBytesAndLongsToo() throws Exception {
    Checkpoint c = Checkpoint.newBuilder().setModel("m").setCreatedMs(1L << 40).putMetrics("test/accuracy", 0.5)
        .setCaffemodel(ByteString.copyFromUtf8("abc")).setContract(CONTRACT).build();
    Checkpoint.Builder back = Checkpoint.newBuilder();
    JsonFormat.parser().merge(ProtoJson.print(c), back);
    assertEquals(c, back.build());
  }

  @Test
  void jsonRoundTrips() {
    Object v = Json.parse("{\"a\": [1, 2.5, \"x\\n\\u00e9\"], \"b\": {\"c\": null, \"d\": true}}");
    assertEquals(v, Json.parse(Json.write(v)));
    assertEquals(Map.of("c", List.of()), Json.parse("{\"c\":[]}"));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
  }

  @Test
  void aRecordVerifiesAndWritesCaffesSnapshotFiles(@TempDir Path dir) throws Exception {
    byte[] model = {1, 2, 3};
    byte[] state = {4, 5};
    Checkpoint c = Checkpoint.newBuilder().setModel("otto").setRun("r1").setIteration(500)
        .setCaffemodel(ByteString.copyFrom(model)).setSolverstate(ByteString.copyFrom(state))
        .setSha256(CheckpointRecord.sha256(model, state)).setDeployPrototxt("name: \"x\"").setContract(CONTRACT)
        .putMetrics("test/accuracy", 0.75).build();
    CheckpointRecord r = CheckpointRecord.verify(c.toByteArray(), 0, 7);
    var files = r.writeTo(dir);
    assertEquals(dir.resolve("otto_iter_500.caffemodel"), files.caffemodel());
    assertEquals(List.of(1, 2, 3), List.of((int) Files.readAllBytes(files.caffemodel())[0],
        (int) Files.readAllBytes(files.caffemodel())[1], (int) Files.readAllBytes(files.caffemodel())[2]));
    assertEquals("name: \"x\"", Files.readString(files.deploy()));
    assertEquals("otto run=r1 iter=500 test/accuracy=0.750000 size=" + c.getSerializedSize() + " sha256="
        + c.getSha256(), r.toString());
    byte[] bad = c.toBuilder().setSha256("00").build().toByteArray();
    assertThrows(IllegalArgumentException.class, () -> CheckpointRecord.verify(bad, 0, 0));
  }
}
