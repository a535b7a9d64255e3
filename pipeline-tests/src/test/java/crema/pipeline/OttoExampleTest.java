package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import crema.engine.draw.WithoutGraphviz;
import crema.engine.io.Prototxt;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/otto/run.sh, the seed's workflow, run whole as a user on a fresh machine runs it: with
 * only a JDK, and no Graphviz on the PATH (whether or not this machine has it). It runs on a copy of
 * the script's files beside the built CLI, so that its work folder is not the checkout's.
 */
class OttoExampleTest {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir
  Path tmp;

  @Test
  void runShCompletesWithoutGraphvizAndSaysHowToRenderTheNet() throws Exception {
    Path jar = REPO.resolve("cli/target/crema.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing: build the CLI first (mvn package)");
    }
    Path copy = tmp.resolve("repo");
    Files.createDirectories(copy.resolve("bin"));
    Files.copy(REPO.resolve("bin/crema"), copy.resolve("bin/crema"));
    copy.resolve("bin/crema").toFile().setExecutable(true);
    Files.createDirectories(copy.resolve("cli/target"));
    Files.createSymbolicLink(copy.resolve("cli/target/crema.jar"), jar);
    Path example = REPO.resolve("examples/otto");
    Files.createDirectories(copy.resolve("examples/otto"));
    try (Stream<Path> files = Files.list(example)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, copy.resolve("examples/otto").resolve(f.getFileName()));
        }
      }
    }

    Path log = tmp.resolve("run.log");
    int rc;
    try (WithoutGraphviz noDot = WithoutGraphviz.create()) {
      ProcessBuilder pb = new ProcessBuilder("bash", copy.resolve("examples/otto/run.sh").toString())
          .redirectErrorStream(true).redirectOutput(log.toFile());
      // This JVM's java first, as a user's JDK would be; then everything but dot.
      pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator + noDot.path());
      rc = pb.start().waitFor();
    }
    String out = Files.readString(log);
    assertEquals(0, rc, out);

    Path work = copy.resolve("examples/otto/work");
    String dot = Files.readString(work.resolve("net.dot"));
    NetParameter deploy = Prototxt.readNet(example.resolve("otto_deploy.prototxt"));
    for (LayerParameter l : deploy.getLayerList()) {
      // run.sh draws top to bottom, where draw_net separates a layer's name and type with a space.
      assertTrue(dot.contains("\"" + l.getName() + " (" + l.getType() + ")\""), l.getName() + " in\n" + dot);
    }
    assertTrue(out.contains("apt-get install graphviz"), out);
    assertTrue(out.contains("dot -Tpng examples/otto/work/net.dot -o examples/otto/work/net.png"), out);
    assertFalse(Files.exists(work.resolve("net.png")), "no picture without Graphviz");
    // The steps after the draw ran too.
    assertTrue(out.contains("submission ok: "), out);
    assertTrue(Files.size(work.resolve("weights/ip1_weights.png")) > 0, out);
  }
}
