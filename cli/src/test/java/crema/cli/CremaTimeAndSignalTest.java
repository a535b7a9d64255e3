package crema.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.OttoFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code crema time}, and SIGINT handled as Caffe's -sigint_effect says. */
class CremaTimeAndSignalTest {
  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void fixture() {
    root = OttoFixture.copyTo(tmp);
  }

  @Test
  void timePrintsCaffesSummaryPerLayer() throws Exception {
    var r = CremaProcess.run(root, "time", "-model", "otto_train_test.prototxt", "-iterations", "5", "-phase", "TEST");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().contains("Iteration: 5 forward-backward time: "), r.log());
    assertTrue(r.log().matches("(?s).*\\]\\s+ip1\\tforward: [0-9.e+-]+ ms\\..*"), r.log());
    assertTrue(r.log().contains("Average Forward-Backward: "), r.log());
    var bad = CremaProcess.run(root, "time", "-model", "otto_train_test.prototxt", "-phase", "VALIDATE");
    assertEquals(1, bad.exitCode());
    assertTrue(bad.log().contains("Unknown phase VALIDATE"), bad.log());
  }

  /**
   * `crema time` times the model-zoo deploy nets (examples/model-zoo; weights from their fillers)
   * layer by layer, run from the repository root as the README shows.
   */
  @ParameterizedTest
  @CsvSource({"squeezenet_v1.1_deploy.prototxt, fire9/expand3x3", "bvlc_googlenet_deploy.prototxt, inception_5b/pool_proj",
      "resnet50_deploy.prototxt, res5c_branch2c", "bvlc_alexnet_deploy.prototxt, norm2",
      "bvlc_reference_caffenet_deploy.prototxt, conv5"})
  void timeRunsTheModelZooNets(String net, String layer) throws Exception {
    var r = CremaProcess.run(Path.of("..").toAbsolutePath().normalize(), "time", "-model",
        "examples/model-zoo/" + net, "-iterations", "1");
    assertEquals(0, r.exitCode(), r.log());
    assertTrue(r.log().matches("(?s).*\\]\\s+" + Pattern.quote(layer)
        + "\\tforward: [0-9.e+-]+ ms\\..*"), r.log());
    assertTrue(r.log().contains("Average Forward pass: "), r.log());
  }

  @Test
  void sigintStopsAfterTheIterationAndSnapshots() throws Exception {
    String solver = Files.readString(root.resolve("otto_solver.prototxt"))
        .replace("max_iter: 2000", "max_iter: 10000000").replace("snapshot: 1000", "snapshot: 0")
        .replace("train/otto", "sig/otto");
    Files.createDirectories(root.resolve("sig"));
    Files.writeString(root.resolve("sig.prototxt"), solver);
    Path log = root.resolve("sig.log");
    Process p = CremaProcess.start(root, log, "train", "-solver", "sig.prototxt", "-sigint_effect", "stop");
    while (!Files.readString(log).contains("Iteration 100 ")) {
      assertTrue(p.isAlive(), Files.readString(log));
      Thread.sleep(20);
    }
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES));
    String text = Files.readString(log);
    assertEquals(0, p.exitValue(), text);
    assertTrue(text.contains("Optimization stopped early."), text);
    try (var files = Files.list(root.resolve("sig"))) {
      assertTrue(files.anyMatch(f -> f.toString().endsWith(".solverstate")), "final snapshot written");
    }
  }
}
