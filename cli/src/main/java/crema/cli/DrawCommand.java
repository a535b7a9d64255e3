package crema.cli;

import caffe.Caffe.Phase;
import crema.engine.draw.Graphviz;
import crema.engine.draw.NetDiagram;
import crema.engine.io.Prototxt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crema draw NET OUT.{svg,png,dot}}: the net as Caffe's draw_net.py draws it. A picture is laid
 * out by Graphviz ({@code dot}, Debian package graphviz), run when it is installed; {@code .dot}
 * output needs nothing, so a machine without Graphviz still gets the net, to render elsewhere.
 */
@Command(name = "draw", description = "Draw a net as Caffe's draw_net.py does: .dot needs nothing, "
    + ".svg/.png/.pdf need Graphviz (apt-get install graphviz).")
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
  public Integer call() throws IOException {
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
    render(dot, ext, net, out);
    return 0;
  }

  /**
   * Lays out and renders DOT with Graphviz's dot. Without Graphviz nothing is written and the
   * message says both ways on: install it, or write the .dot (which needs nothing) and render later.
   */
  static void render(String dot, String format, Path net, Path out) throws IOException {
    byte[] picture;
    try {
      picture = Graphviz.render(dot, format);
    } catch (Graphviz.MissingException e) {
      String dotFile = out.toString().substring(0, out.toString().lastIndexOf('.')) + ".dot";
      throw new IllegalStateException("cannot draw " + out + ": " + e.getMessage() + ". A .dot file needs nothing: "
          + "crema draw " + net + " " + dotFile + ", then dot -T" + format + " " + dotFile + " -o " + out);
    }
    Files.write(out, picture);
  }
}
