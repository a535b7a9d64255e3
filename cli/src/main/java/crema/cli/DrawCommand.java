package crema.cli;

import caffe.Caffe.Phase;
import crema.engine.draw.NetDiagram;
import crema.engine.io.Prototxt;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crema draw NET OUT.{svg,png,dot}}: the net as Caffe's draw_net.py draws it. The layout is
 * Graphviz's ({@code dot}, Debian package graphviz); {@code .dot} output needs no Graphviz.
 */
@Command(name = "draw", description = "Draw a net as Caffe's draw_net.py does (Graphviz).")
final class DrawCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "The net prototxt.")
  Path net;

  @Parameters(index = "1", description = "The picture to write: .svg, .png or .dot (also .raw, as draw_net.py).")
  Path out;

  @Option(names = "--rankdir", defaultValue = "LR", description = "LR (default), TB, BT or RL.")
  String rankdir;

  @Option(names = "--phase", defaultValue = "ALL", description = "TRAIN, TEST or ALL (default).")
  String phase;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Phase p = switch (phase) {
      case "ALL" -> null;
      case "TRAIN" -> Phase.TRAIN;
      case "TEST" -> Phase.TEST;
      default -> throw new IllegalArgumentException("--phase must be TRAIN, TEST or ALL, got " + phase);
    };
    String dot = NetDiagram.dot(Prototxt.readNet(net), rankdir, p);
    String name = out.getFileName().toString();
    String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase();
    if (ext.equals("dot") || ext.equals("raw") || ext.equals("gv")) {
      Files.writeString(out, dot, StandardCharsets.UTF_8);
      return 0;
    }
    if (!ext.equals("svg") && !ext.equals("png") && !ext.equals("pdf")) {
      throw new IllegalArgumentException("cannot draw to '" + name + "': use .svg, .png, .pdf or .dot");
    }
    render(dot, ext, out);
    return 0;
  }

  /** Lays out and renders DOT with Graphviz's dot. */
  static void render(String dot, String format, Path out) throws IOException, InterruptedException {
    Process proc;
    try {
      proc = new ProcessBuilder("dot", "-T" + format, "-o", out.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException("Graphviz's 'dot' is not installed (apt-get install graphviz);"
          + " write a .dot file instead, or install it to render " + format);
    }
    try (OutputStream in = proc.getOutputStream()) {
      in.write(dot.getBytes(StandardCharsets.UTF_8));
    }
    String msg = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!proc.waitFor(2, TimeUnit.MINUTES) || proc.exitValue() != 0) {
      throw new IllegalStateException("Graphviz failed to render " + out + ": " + msg.strip());
    }
  }
}
