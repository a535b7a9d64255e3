package crema.engine.draw;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Graphviz's {@code dot}, which lays out and renders the DOT {@link NetDiagram} writes (as
 * draw_net.py has pydot do). Only {@code crema draw} to a picture (PNG, SVG, PDF) runs it: DOT output
 * needs nothing, and the dashboard lays nets out in the browser.
 *
 * <p>{@code dot} is looked up on the PATH of this process (or taken from the system property
 * {@value #PROPERTY}), before anything is started, so that a missing Graphviz is told apart from a
 * failing one and named plainly.
 */
public final class Graphviz {
  /** The system property naming the {@code dot} executable to run instead of the PATH's. */
  public static final String PROPERTY = "crema.graphviz.dot";

  /** Why {@link #render} could not run at all: there is no {@code dot} to run. */
  public static final class MissingException extends IllegalStateException {
    MissingException(String where) {
      super("Graphviz is not installed (no 'dot' " + where + "): apt-get install graphviz");
    }
  }

  private Graphviz() {}

  /** The {@code dot} that {@link #render} would run, if there is one. */
  public static Optional<Path> dot() {
    String configured = System.getProperty(PROPERTY);
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured);
      return Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
    return onPath(System.getenv("PATH"));
  }

  /** The first executable {@code dot} in the folders of {@code path} (a PATH value), as a shell finds it. */
  static Optional<Path> onPath(String path) {
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      // An empty PATH entry means the working directory, as for the shell.
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "dot");
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The DOT rendered as {@code format} (svg, png, pdf); a failure says what dot said. */
  public static byte[] render(String dot, String format) {
    String configured = System.getProperty(PROPERTY);
    Path exe = dot().orElseThrow(() -> new MissingException(
        configured != null && !configured.isBlank() ? "at " + configured + " (" + PROPERTY + ")" : "on the PATH"));
    Process proc;
    try {
      proc = new ProcessBuilder(exe.toString(), "-T" + format).start();
    } catch (IOException e) {
      throw new IllegalStateException("Graphviz's dot (" + exe + ") did not start: " + e.getMessage(), e);
    }
    try {
      // stderr is drained beside stdout, so neither pipe can fill and stall dot.
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(proc.getErrorStream()));
      try (OutputStream in = proc.getOutputStream()) {
        in.write(dot.getBytes(StandardCharsets.UTF_8));
      }
      byte[] out = readAll(proc.getInputStream());
      if (!proc.waitFor(2, TimeUnit.MINUTES)) {
        proc.destroyForcibly();
        throw new IllegalStateException("Graphviz's dot took over 2 minutes to lay the net out");
      }
      if (proc.exitValue() != 0) {
        throw new IllegalStateException("Graphviz's dot failed: " + new String(err.join(), StandardCharsets.UTF_8).strip());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("Graphviz's dot failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while Graphviz drew the net", e);
    }
  }

  private static byte[] readAll(InputStream in) {
    try (in; ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
