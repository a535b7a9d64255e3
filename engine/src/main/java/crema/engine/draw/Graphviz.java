package crema.engine.draw;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Graphviz's {@code dot}, which lays out and renders the DOT {@link NetDiagram} writes (as
 * draw_net.py has pydot do). The one place Crema runs it: {@code crema draw} and the dashboard.
 */
public final class Graphviz {
  /** Why {@link #render} could not run at all: there is no {@code dot} on the PATH. */
  public static final class MissingException extends IllegalStateException {
    MissingException() {
      super("Graphviz's 'dot' is not installed (apt-get install graphviz)");
    }
  }

  private Graphviz() {}

  /** The DOT rendered as {@code format} (svg, png, pdf); a failure says what dot said. */
  public static byte[] render(String dot, String format) {
    Process proc;
    try {
      proc = new ProcessBuilder("dot", "-T" + format).start();
    } catch (IOException e) {
      throw new MissingException();
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
