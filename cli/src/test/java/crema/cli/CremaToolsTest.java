package crema.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import crema.engine.OttoFixture;
import crema.engine.draw.Graphviz;
import crema.engine.draw.WithoutGraphviz;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert, predict, draw, weights and upgrade, run as a user runs them. */
class CremaToolsTest {
  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void fixture() {
    root = OttoFixture.copyTo(tmp);
  }

  @Test
  void convertExitsNonZeroOnBadRowsAndSummarises() throws Exception {
    Files.writeString(root.resolve("bad.csv"), "id,f1,target\n1,2,Class_1\n2,oops,Class_2\n3,4,Class_2\n");
    var r = CremaProcess.run(root, "convert", "bad.csv", "bad_lmdb", "--label-column", "target", "--id-column", "id");
    assertEquals(2, r.exitCode(), r.log());
    assertTrue(r.log().contains("bad.csv:3: column 'f1': 'oops' is not a number"), r.log());
    assertTrue(r.log().contains("accepted 2 rows, rejected 1 rows"), r.log());
    assertTrue(Files.exists(root.resolve("bad_lmdb/data.mdb")), "good rows still written");
  }

  @Test
  void predictWritesTheSubmissionAndAccuracy() throws Exception {
    Files.writeString(root.resolve("labels.txt"), String.join("\n", List.of("Class_1", "Class_2", "Class_3",
        "Class_4", "Class_5", "Class_6", "Class_7", "Class_8", "Class_9")) + "\n");
    var r = CremaProcess.run(root, "predict", "-model", "otto_deploy.prototxt", "-weights",
        "train/otto_iter_2000.caffemodel", "-input", "data/test.csv", "-output", "sub.csv",
        "--id-column", "id", "--label-column", "target", "--log1p", "--labels", "labels.txt");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().strip().endsWith("accuracy = 0.785"), r.log());
    List<String> sub = Files.readAllLines(root.resolve("sub.csv"));
    assertEquals("id,Class_1,Class_2,Class_3,Class_4,Class_5,Class_6,Class_7,Class_8,Class_9", sub.get(0));
    assertEquals(601, sub.size());
    List<String> caffe = Files.readAllLines(root.resolve("forward/prob_all600.csv"));
    String[] mine = sub.get(2).split(",");
    String[] theirs = caffe.get(2).split(",");
    assertEquals("2", mine[0]);
    for (int c = 0; c < 9; c++) {
      assertEquals(Double.parseDouble(theirs[c + 2]), Double.parseDouble(mine[c + 1]), 1e-6);
    }
  }

  @Test
  void predictErrorsNameTheLine() throws Exception {
    var r = CremaProcess.run(root, "predict", "-model", "otto_deploy.prototxt", "-weights",
        "train/otto_iter_2000.caffemodel", "-input", "data/test.csv", "-output", "x.csv", "--id-column", "id");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("the CSV has 94 feature columns; the net's input takes 93"), r.log());
    String header = Files.readAllLines(root.resolve("data/test.csv")).get(0);
    Files.writeString(root.resolve("short.csv"), header + "\n1," + "0,".repeat(92) + "0,Class_1\n2,1,2\n");
    r = CremaProcess.run(root, "predict", "-model", "otto_deploy.prototxt", "-weights",
        "train/otto_iter_2000.caffemodel", "-input", "short.csv", "-output", "x.csv", "--id-column", "id",
        "--label-column", "target", "--labels", "labels.txt");
    assertEquals(1, r.exitCode());
    assertTrue(r.log().contains("short.csv:3: expected 95 columns, found 3"), r.log());
    Files.writeString(root.resolve("nan.csv"), header + "\n1," + "0,".repeat(92) + "x,Class_1\n");
    r = CremaProcess.run(root, "predict", "-model", "otto_deploy.prototxt", "-weights",
        "train/otto_iter_2000.caffemodel", "-input", "nan.csv", "-output", "x.csv", "--id-column", "id",
        "--label-column", "target", "--labels", "labels.txt");
    assertTrue(r.log().contains("nan.csv:2: column 'feat_93': 'x' is not a number"), r.log());
    assertFalse(r.log().contains("\tat "), r.log());
  }

  @Test
  void drawShowsEveryLayerAndBlob() throws Exception {
    for (String phase : new String[] {"ALL", "TEST"}) {
      var r = CremaProcess.run(root, "draw", "otto_train_test.prototxt", "net.dot", "--phase", phase);
      assertEquals(0, r.exitCode(), r.log());
      String dot = Files.readString(root.resolve("net.dot"));
      NetParameter net = Prototxt.readNet(root.resolve("otto_train_test.prototxt"));
      for (LayerParameter l : net.getLayerList()) {
        assertTrue(dot.contains("\"" + l.getName() + "\\n(" + l.getType() + ")\""), l.getName() + " in\n" + dot);
        for (String b : l.getTopList()) {
          assertTrue(dot.contains("\"" + b + "\""), b);
        }
      }
      assertTrue(dot.contains("fillcolor=\"#CC33FF\""), "InnerProduct purple");
      assertTrue(dot.contains("\"relu1\\n(ReLU)\" [shape=record, style=filled, fillcolor=\"#90EE90\", id=\"layer"), "in-place green");
      assertTrue(dot.contains("[label=\"Batch 100\"]"), "Data edge label");
      assertTrue(dot.contains("[label=\"30\"]"), "num_output edge label");
    }
    var train = CremaProcess.run(root, "draw", "otto_train_test.prototxt", "train.dot", "--phase", "TRAIN", "--rankdir", "TB");
    assertEquals(0, train.exitCode(), train.log());
    String dot = Files.readString(root.resolve("train.dot"));
    assertFalse(dot.contains("accuracy (Accuracy)"), "TEST-only layer left out");
    assertTrue(dot.contains("\"ip1 (InnerProduct)\""), "TB separates with spaces");
  }

  @Test
  void drawToSvgUsesGraphvizWhereItIsInstalled() throws Exception {
    assumeTrue(Graphviz.dot().isPresent(), "Graphviz is not installed here (apt-get install graphviz)");
    var svg = CremaProcess.run(root, "draw", "otto_deploy.prototxt", "net.svg");
    assertEquals(0, svg.exitCode(), svg.log());
    String text = Files.readString(root.resolve("net.svg"));
    assertTrue(text.contains("<svg") && text.contains("ip1") && text.contains("prob"), text);
  }

  /** On a PATH with no dot, as on a machine without Graphviz (whether or not this one has it). */
  @Test
  void drawToAPictureWithoutGraphvizSaysWhatToInstallAndDotStillWorks() throws Exception {
    try (WithoutGraphviz noDot = WithoutGraphviz.create()) {
      Map<String, String> env = Map.of("PATH", noDot.path());
      for (String picture : new String[] {"nodot.png", "nodot.svg"}) {
        var r = CremaProcess.run(root, env, "draw", "otto_deploy.prototxt", picture);
        String format = picture.substring(picture.indexOf('.') + 1);
        assertEquals(1, r.exitCode(), r.log());
        assertTrue(r.log().contains("crema draw: cannot draw " + picture + ": Graphviz is not installed"), r.log());
        assertTrue(r.log().contains("apt-get install graphviz"), r.log());
        assertTrue(r.log().contains("crema draw otto_deploy.prototxt nodot.dot, then dot -T" + format
            + " nodot.dot -o " + picture), r.log());
        assertFalse(r.log().contains("\tat "), "no stack trace: " + r.log());
        assertFalse(Files.exists(root.resolve(picture)), "nothing half-written");
      }
      var dot = CremaProcess.run(root, env, "draw", "otto_deploy.prototxt", "nodot.dot");
      assertEquals(0, dot.exitCode(), dot.log());
      assertTrue(Files.readString(root.resolve("nodot.dot")).startsWith("digraph "));
    }
  }

  @Test
  void weightsDrawsHeatmapsAndHistograms() throws Exception {
    var r = CremaProcess.run(root, "weights", "train/otto_iter_2000.caffemodel", "w", "--layer", "ip1");
    assertEquals(0, r.exitCode(), r.log());
    BufferedImage heat = ImageIO.read(root.resolve("w/ip1_weights.png").toFile());
    BufferedImage hist = ImageIO.read(root.resolve("w/ip1_hist.png").toFile());
    assertTrue(heat.getWidth() > 93 && heat.getHeight() > 30);
    assertTrue(hist.getWidth() > 0);
    assertFalse(Files.exists(root.resolve("w/ip2_weights.png")), "--layer limits the output");
    var none = CremaProcess.run(root, "weights", "train/otto_iter_2000.caffemodel", "w", "--layer", "ip9");
    assertEquals(1, none.exitCode());
    assertTrue(none.log().contains("no layer 'ip9'"), none.log());
  }

  @Test
  void upgradeRewritesTheLegacyDeployNet() throws Exception {
    var r = CremaProcess.run(root, "upgrade", "otto_deploy.prototxt", "deploy_v2.prototxt");
    assertEquals(0, r.exitCode(), r.log());
    NetParameter n = Prototxt.readNet(root.resolve("deploy_v2.prototxt"));
    assertEquals("Input", n.getLayer(0).getType());
    assertFalse(Files.readString(root.resolve("deploy_v2.prototxt")).contains("input_dim"));
    var again = CremaProcess.run(root, "upgrade", "deploy_v2.prototxt", "deploy_v3.prototxt");
    assertTrue(again.log().contains("File already in latest proto format."), again.log());
    assertEquals(n, Prototxt.readNet(root.resolve("deploy_v3.prototxt")));
    assertTrue(BinaryProto.readNet(root.resolve("train/otto_iter_2000.caffemodel")).getLayerCount() > 0);
  }
}
