package crema.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.BlobShape;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import crema.engine.OttoFixture;
import crema.engine.io.BinaryProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code crema test} and the errors a user sees, run from the fixture folder as Caffe was. */
class CremaTestCommandTest {
  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void fixture() {
    root = OttoFixture.copyTo(tmp);
  }

  @Test
  void printsCaffesAccuracyAndLoss() throws Exception {
    var r = CremaProcess.run(root, "test", "-model", "otto_train_test.prototxt",
        "-weights", "train/otto_iter_2000.caffemodel", "-iterations", "6");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().contains("] accuracy = 0.785\n"), r.log());
    assertTrue(r.log().contains("] loss = 0.618973 (* 1 = 0.618973 loss)\n"), r.log());
    assertTrue(r.log().contains("] Batch 2, loss = 0.721999\n"), r.log());
  }

  @Test
  void gflagsSpellingsAreAccepted() throws Exception {
    var r = CremaProcess.run(root, "test", "--model=otto_train_test.prototxt",
        "-weights=train/otto_iter_2000.caffemodel", "--iterations", "1");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().contains("] accuracy = 0.77\n"), r.log());
  }

  @Test
  void syntaxErrorNamesFileLineAndColumn() throws Exception {
    Files.writeString(root.resolve("broken.prototxt"), "name: \"x\"\nlayer {\n  name: \"a\"\n  typo: 3\n}\n");
    var r = CremaProcess.run(root, "test", "-model", "broken.prototxt", "-weights", "train/otto_iter_2000.caffemodel");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("broken.prototxt:4:3:"), r.log());
    assertTrue(r.log().contains("typo"), r.log());
    assertFalse(r.log().contains("\tat "), "no stack trace: " + r.log());
  }

  @Test
  void shapeMismatchNamesLayerAndBothShapes() throws Exception {
    NetParameter model = BinaryProto.readNet(root.resolve("train/otto_iter_2000.caffemodel"));
    NetParameter.Builder b = model.toBuilder();
    for (int i = 0; i < b.getLayerCount(); i++) {
      LayerParameter l = b.getLayer(i);
      if (l.getName().equals("ip1")) {
        BlobProto.Builder w = BlobProto.newBuilder().setShape(BlobShape.newBuilder().addDim(30).addDim(94));
        for (int k = 0; k < 30 * 94; k++) {
          w.addData(0.01f);
        }
        b.setLayer(i, l.toBuilder().setBlobs(0, w));
      }
    }
    BinaryProto.write(b.build(), root.resolve("wide.caffemodel"));
    var r = CremaProcess.run(root, "test", "-model", "otto_train_test.prototxt", "-weights", "wide.caffemodel");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("'ip1'"), r.log());
    assertTrue(r.log().contains("30 94 (2820)") && r.log().contains("30 93 (2790)"), r.log());
    assertFalse(r.log().contains("\tat "), "no stack trace: " + r.log());
  }

  @Test
  void unknownLayerTypeAndMissingBottomAreNamed() throws Exception {
    Files.writeString(root.resolve("unknown.prototxt"), """
        layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 } } }
        layer { name: "weird" type: "Convolutionn" bottom: "x" top: "y" }
        """);
    var r = CremaProcess.run(root, "time", "-model", "unknown.prototxt", "-iterations", "1");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("layer 'weird': Unknown layer type: Convolutionn"), r.log());
    Files.writeString(root.resolve("nobottom.prototxt"), """
        layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 } } }
        layer { name: "relu" type: "ReLU" bottom: "z" top: "y" }
        """);
    r = CremaProcess.run(root, "time", "-model", "nobottom.prototxt", "-iterations", "1");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("'relu'") && r.log().contains("Unknown bottom blob 'z'"), r.log());
  }

  @Test
  void explicitGpuWithoutBackendIsOneClearError() throws Exception {
    var r = CremaProcess.run(root, "test", "-model", "otto_train_test.prototxt",
        "-weights", "train/otto_iter_2000.caffemodel", "-gpu", "0");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("-gpu 0 was requested"), r.log());
    assertFalse(r.log().contains("\tat "), r.log());
    if (!new java.io.File("/usr/lib/x86_64-linux-gnu/libcuda.so.1").exists()) {
      assertTrue(r.log().contains("-gpu 0 was requested, but no NVIDIA driver: libcuda.so.1 could not be loaded"),
          r.log());
    }
  }

  /** device_query names what is missing; without -gpu, as in Caffe, it has nothing to query. */
  @Test
  void deviceQuerySaysWhatIsMissing() throws Exception {
    assertEquals(0, CremaProcess.run(root, "device_query").exitCode());
    var r = CremaProcess.run(root, "device_query", "-gpu", "0");
    if (!new java.io.File("/usr/lib/x86_64-linux-gnu/libcuda.so.1").exists()) {
      assertEquals(1, r.exitCode(), r.log());
      assertTrue(r.log().contains("no NVIDIA driver: libcuda.so.1 could not be loaded"), r.log());
      assertFalse(r.log().contains("\tat "), r.log());
    } else {
      assertTrue(r.log().contains("Querying GPUs 0") && r.log().contains("Memory free:"), r.log());
    }
  }
}
