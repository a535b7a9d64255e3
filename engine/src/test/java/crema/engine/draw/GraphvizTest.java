package crema.engine.draw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How dot is found, what a missing one says, and that the one found is the one run. */
class GraphvizTest {
  @TempDir
  Path tmp;

  @AfterEach
  void clearProperty() {
    System.clearProperty(Graphviz.PROPERTY);
  }

  /** A stand-in dot: echoes its arguments, then its input, so a test sees what it was given. */
  Path fakeDot(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path dot = dir.resolve("dot");
    Files.writeString(dot, "#!/bin/sh\necho \"$@\"\ncat\n");
    Files.setPosixFilePermissions(dot, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dot;
  }

  @Test
  void dotIsFoundOnThePathAsTheShellFindsIt() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Path notExecutable = Files.createDirectories(tmp.resolve("plain"));
    Files.writeString(notExecutable.resolve("dot"), "not a program");
    Path first = fakeDot(tmp.resolve("first"));
    Path second = fakeDot(tmp.resolve("second"));
    String path = String.join(File.pathSeparator, empty.toString(), notExecutable.toString(),
        first.getParent().toString(), second.getParent().toString());
    assertEquals(Optional.of(first), Graphviz.onPath(path));
    assertEquals(Optional.empty(), Graphviz.onPath(empty + File.pathSeparator + notExecutable));
    assertEquals(Optional.empty(), Graphviz.onPath(null));
  }

  @Test
  void aPathWithoutGraphvizHasNoDotButEverythingElse() throws Exception {
    try (WithoutGraphviz noDot = WithoutGraphviz.create()) {
      assertEquals(Optional.empty(), Graphviz.onPath(noDot.path()));
      assertTrue(Files.isExecutable(Path.of(noDot.path(), "sh")), "the shell is still there");
    }
  }

  @Test
  void aMissingDotSaysWhatToInstall() {
    System.setProperty(Graphviz.PROPERTY, tmp.resolve("no-such-dot").toString());
    assertEquals(Optional.empty(), Graphviz.dot());
    Graphviz.MissingException e = assertThrows(Graphviz.MissingException.class,
        () -> Graphviz.render("digraph { a -> b }", "png"));
    assertTrue(e.getMessage().contains("Graphviz is not installed"), e.getMessage());
    assertTrue(e.getMessage().contains("apt-get install graphviz"), e.getMessage());
  }

  @Test
  void theDotFoundIsTheOneRunWithTheFormatAndTheDiagram() throws Exception {
    Path dot = fakeDot(tmp.resolve("bin"));
    System.setProperty(Graphviz.PROPERTY, dot.toString());
    assertEquals(Optional.of(dot), Graphviz.dot());
    String diagram = "digraph { a -> b }\n";
    byte[] out = Graphviz.render(diagram, "svg");
    assertArrayEquals(("-Tsvg\n" + diagram).getBytes(StandardCharsets.UTF_8), out);
  }
}
