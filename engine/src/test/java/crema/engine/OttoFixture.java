package crema.engine;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.check.Conformance;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The otto-mini fixture produced by the real Caffe 1.0 (test resources), copied into a scratch
 * folder so a test may run in it, write into it, or point a process at it as its working directory.
 */
public final class OttoFixture {
  private OttoFixture() {}

  /** Copies the fixture into {@code dir}/otto-mini and returns that folder. */
  public static Path copyTo(Path dir) {
    return copyTo(dir, "otto-mini", "README.txt");
  }

  /**
   * Copies the fixture folder {@code name} of the test classpath (a folder under {@code fixtures/},
   * which holds {@code marker}) into {@code dir}/{@code name} and returns that folder.
   */
  public static Path copyTo(Path dir, String name, String marker) {
    try {
      URL url = OttoFixture.class.getResource("/" + name + "/" + marker);
      if (url == null) {
        throw new IllegalStateException(name + " fixture not on the test classpath");
      }
      URI uri = url.toURI();
      Path target = dir.resolve(name);
      if (uri.getScheme().equals("jar")) {
        try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of())) {
          copyTree(fs.getPath("/" + name), target);
        }
      } else {
        copyTree(Path.of(uri).getParent(), target);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path rel = from.relativize(p);
        Path dest = to.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest);
        }
      }
    }
  }

  /** Reads a net of the fixture with its data sources made absolute. */
  public static NetParameter net(Path root, String file) {
    return Conformance.fixtureNet(root, file);
  }

  /** Reads a solver of the fixture, inlining its net and snapshotting under {@code prefix}. */
  public static SolverParameter solver(Path root, String file, String prefix) {
    SolverParameter s = Prototxt.readSolver(root.resolve(file));
    return s.toBuilder().clearNet().setNetParam(net(root, s.getNet())).setSnapshotPrefix(prefix).build();
  }

  public static NetParameter caffemodel(Path root, String file) {
    return BinaryProto.readNet(root.resolve(file));
  }
}
