package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.io.ProtoFormatException;
import crema.engine.io.Prototxt;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrototxtTest {
  @TempDir
  Path dir;

  @Test
  void v1LayersAreUpgraded() {
    NetParameter n = Prototxt.parseNet("""
        name: "old"
        layers { name: "data" type: DATA top: "data" top: "label"
          data_param { source: "db" batch_size: 64 scale: 0.00390625 backend: LMDB } }
        layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip"
          blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 param: "shared_w"
          inner_product_param { num_output: 10 } }
        layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" }
        """, "old.prototxt");
    assertEquals(0, n.getLayersCount());
    assertEquals("Data", n.getLayer(0).getType());
    assertEquals(0.00390625f, n.getLayer(0).getTransformParam().getScale(), "scale moved to transform_param");
    assertEquals(false, n.getLayer(0).getDataParam().hasScale());
    assertEquals("InnerProduct", n.getLayer(1).getType());
    assertEquals(2f, n.getLayer(1).getParam(1).getLrMult());
    assertEquals(0f, n.getLayer(1).getParam(1).getDecayMult());
    assertEquals("shared_w", n.getLayer(1).getParam(0).getName());
    assertEquals(10, n.getLayer(1).getInnerProductParam().getNumOutput());
    assertEquals("SoftmaxWithLoss", n.getLayer(2).getType());
  }

  @Test
  void inputDimBecomesAnInputLayerAtTheFront() {
    NetParameter n = Prototxt.parseNet("""
        input: "data" input_dim: 1 input_dim: 93 input_dim: 1 input_dim: 1
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 9 } }
        """, "deploy.prototxt");
    assertEquals("input", n.getLayer(0).getName());
    assertEquals("Input", n.getLayer(0).getType());
    assertEquals("data", n.getLayer(0).getTop(0));
    assertEquals(93, n.getLayer(0).getInputParam().getShape(0).getDim(1));
    assertEquals(0, n.getInputCount() + n.getInputDimCount());
  }

  @Test
  void batchNormParamsAreForcedToZero() {
    NetParameter n = Prototxt.parseNet("""
        layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x"
          param { lr_mult: 1 } param { lr_mult: 1 } param { lr_mult: 1 } }
        """, "bn.prototxt");
    for (var p : n.getLayer(0).getParamList()) {
      assertEquals(0f, p.getLrMult());
      assertEquals(0f, p.getDecayMult());
    }
  }

  @Test
  void solverTypeBecomesType() {
    SolverParameter s = Prototxt.parseSolver("solver_type: ADAGRAD base_lr: 0.1", "s.prototxt");
    assertEquals("AdaGrad", s.getType());
    var e = assertThrows(ProtoFormatException.class,
        () -> Prototxt.parseSolver("solver_type: ADAM type: \"Adam\"", "both.prototxt"));
    assertTrue(e.getMessage().contains("cannot be both specified"), e.getMessage());
  }

  @Test
  void syntaxErrorsCarryFileLineAndColumn() {
    var e = assertThrows(ProtoFormatException.class,
        () -> Prototxt.parseNet("name: \"x\"\nlayer {\n  name: \"a\"\n  num_outputt: 3\n}\n", "net.prototxt"));
    assertTrue(e.getMessage().startsWith("net.prototxt:4:3:"), e.getMessage());
    e = assertThrows(ProtoFormatException.class, () -> Prototxt.parseNet("layer { name: \"a\" ", "open.prototxt"));
    assertTrue(e.getMessage().startsWith("open.prototxt:1:"), e.getMessage());
  }

  @Test
  void snapshotPrefixDefaultsToTheSolverPathAndFollowsDirectories() throws Exception {
    Path solver = dir.resolve("config.prototxt");
    Files.writeString(solver, "base_lr: 0.01");
    assertEquals(dir.resolve("config").toString(), Prototxt.readSolver(solver).getSnapshotPrefix());
    Path snaps = Files.createDirectories(dir.resolve("snaps"));
    Files.writeString(solver, "base_lr: 0.01 snapshot_prefix: \"" + snaps + "\"");
    assertEquals(snaps.resolve("config").toString(), Prototxt.readSolver(solver).getSnapshotPrefix());
  }

  @Test
  void textRoundTrip() {
    NetParameter n = Prototxt.parseNet("name: \"x\" layer { name: \"a\" type: \"ReLU\" bottom: \"b\" top: \"b\" }", "x");
    assertEquals(n, Prototxt.parseNet(Prototxt.print(n), "printed"));
  }
}
