package crema.engine.draw;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A PATH on which every program of this one is found except Graphviz's {@code dot}: what a machine
 * without Graphviz has, on a machine with it. Graphviz installs dot into /usr/bin beside bash, java
 * and everything else, so no PATH entry can simply be left out; instead one folder gets a link to
 * each program of the PATH, in the PATH's order (the first of a name wins, as for the shell), bar dot.
 * Graphviz stays installed for whatever else runs on the machine. {@link #close} removes the links
 * (only the links: their own folder is made here, outside JUnit's temporary folders, which would
 * warn about every link that points out of them).
 */
public final class WithoutGraphviz implements AutoCloseable {
  private final Path bin;

  private WithoutGraphviz(Path bin) {
    this.bin = bin;
  }

  public static WithoutGraphviz create() {
    try {
      Path bin = Files.createTempDirectory("crema-no-graphviz-");
      WithoutGraphviz made = new WithoutGraphviz(bin);
      Set<String> seen = new HashSet<>();
      for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path folder = Path.of(entry.isEmpty() ? "." : entry).toAbsolutePath();
        if (!Files.isDirectory(folder)) {
          continue;
        }
        try (Stream<Path> programs = Files.list(folder)) {
          for (Path p : (Iterable<Path>) programs::iterator) {
            String name = p.getFileName().toString();
            if (name.equals("dot") || !Files.isExecutable(p) || Files.isDirectory(p) || !seen.add(name)) {
              continue;
            }
            Files.createSymbolicLink(bin.resolve(name), p);
          }
        }
      }
      if (Graphviz.onPath(made.path()).isPresent()) {
        throw new IllegalStateException("dot is still on " + made.path());
      }
      return made;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The PATH value for a process that must find no dot. */
  public String path() {
    return bin.toString();
  }

  @Override
  public void close() {
    try (Stream<Path> links = Files.list(bin)) {
      for (Path link : (Iterable<Path>) links::iterator) {
        Files.delete(link);
      }
      Files.delete(bin);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
