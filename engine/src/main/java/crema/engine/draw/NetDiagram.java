package crema.engine.draw;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.NetStateRule;
import caffe.Caffe.Phase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A net as Graphviz DOT, drawn the way Caffe's draw_net.py draws it: each layer a filled record
 * coloured by type (Convolution red, Pooling orange, InnerProduct purple, others blue, in-place
 * layers light green), each blob a grey octagon (a blob only ever produced is a plain node),
 * layer→top edges labelled "Batch N" for Data and num_output for InnerProduct/Convolution. The
 * layout is left to whoever draws it: Graphviz for {@code crema draw}, dagre in the dashboard.
 */
public final class NetDiagram {
  /** How a node is drawn: a layer's filled record, a blob some layer reads (a grey octagon), or a blob only produced. */
  public enum Shape { LAYER, BLOB, PLAIN_BLOB }

  /**
   * One node. {@code id} is {@code layer<i>} for a layer (its index in the prototxt; layers of one
   * name and type share the first one's node) and {@code blob<k>} for a blob (k in order of first
   * appearance); {@code lines} is its label, one entry a line, as text (nothing escaped);
   * {@code fill} is a CSS/Graphviz colour, empty for none; {@code layer} is the layer's index, or -1.
   */
  public record Node(String id, Shape shape, List<String> lines, String fill, int layer) {}

  /** An edge between node ids; {@code label} is empty or the edge's text ("Batch 64", num_output). */
  public record Edge(String from, String to, String label) {}

  /** The drawing before layout: what {@link #dot} hands Graphviz and the dashboard hands its layout library. */
  public record Diagram(String name, List<Node> nodes, List<Edge> edges) {}

  private NetDiagram() {}

  /**
   * The nodes and edges draw_net draws; {@code phase} null draws every layer (draw_net's ALL), else
   * only those whose include/exclude phase rules admit it. {@code rankdir} picks the label layout
   * (draw_net joins a layer's label lines with spaces for TB and BT).
   */
  public static Diagram diagram(NetParameter net, String rankdir, Phase phase) {
    if (!List.of("LR", "TB", "BT", "RL").contains(rankdir)) {
      throw new IllegalArgumentException("rankdir must be LR, TB, BT or RL, got " + rankdir);
    }
    Map<String, Node> nodes = new LinkedHashMap<>();
    List<Edge> edges = new ArrayList<>();
    for (int i = 0; i < net.getLayerCount(); i++) {
      LayerParameter layer = net.getLayer(i);
      if (phase != null && !included(layer, phase)) {
        continue;
      }
      String key = layer.getName() + "_" + layer.getType();
      boolean inPlace = layer.getBottomCount() == 1 && layer.getTopCount() == 1
          && layer.getBottom(0).equals(layer.getTop(0));
      String color = inPlace ? "#90EE90" : color(layer.getType());
      // Layers of one name and type (a TRAIN and a TEST Data layer) are one node, as in draw_net;
      // it keeps the first one's id.
      nodes.putIfAbsent(key, new Node("layer" + i, Shape.LAYER, List.of(layerLabel(layer, rankdir).split("\n", -1)),
          color, i));
      for (String b : layer.getBottomList()) {
        blob(nodes, b, Shape.BLOB);
        edges.add(new Edge(nodes.get(b + "_blob").id(), nodes.get(key).id(), ""));
      }
      for (String t : layer.getTopList()) {
        // As pydot replaces a node added again, the last role wins: a blob an in-place layer
        // rewrites is plain, a produced blob read later is an octagon. Its place stays the first.
        blob(nodes, t, Shape.PLAIN_BLOB);
        edges.add(new Edge(nodes.get(key).id(), nodes.get(t + "_blob").id(), edgeLabel(layer)));
      }
    }
    return new Diagram(net.getName().isEmpty() ? "Net" : net.getName(), List.copyOf(nodes.values()), edges);
  }

  private static void blob(Map<String, Node> nodes, String name, Shape shape) {
    Node had = nodes.get(name + "_blob");
    String id = had != null ? had.id() : "blob" + nodes.values().stream().filter(n -> n.layer() < 0).count();
    nodes.put(name + "_blob", new Node(id, shape, List.of(name), shape == Shape.BLOB ? "#E0E0E0" : "", -1));
  }

  /**
   * The DOT text of {@link #diagram}. Nodes are identified by their labels, as pydot identifies
   * them; a layer's node carries its id ({@code layer<i>}), which names it in Graphviz's SVG.
   */
  public static String dot(NetParameter net, String rankdir, Phase phase) {
    Diagram d = diagram(net, rankdir, phase);
    Map<String, String> labels = new LinkedHashMap<>();
    StringBuilder sb = new StringBuilder();
    sb.append("digraph ").append(quote(plainText(d.name()))).append(" {\n");
    sb.append("  rankdir=").append(rankdir).append(";\n");
    for (Node n : d.nodes()) {
      String text = String.join("\n", n.lines());
      String label = n.shape() == Shape.LAYER ? recordText(text) : plainText(text);
      labels.put(n.id(), label);
      sb.append("  ").append(quote(label));
      switch (n.shape()) {
        case LAYER -> sb.append(" [shape=record, style=filled, fillcolor=\"").append(n.fill()).append("\", id=\"")
            .append(n.id()).append("\"]");
        case BLOB -> sb.append(" [shape=octagon, style=filled, fillcolor=\"").append(n.fill()).append("\"]");
        case PLAIN_BLOB -> { }
      }
      sb.append(";\n");
    }
    for (Edge e : d.edges()) {
      sb.append("  ").append(quote(labels.get(e.from()))).append(" -> ")
          .append(quote(labels.get(e.to()))).append(" [label=").append(quote(e.label())).append("];\n");
    }
    return sb.append("}\n").toString();
  }

  private static boolean included(LayerParameter layer, Phase phase) {
    if (layer.getIncludeCount() > 0 && layer.getExcludeCount() > 0) {
      throw new IllegalArgumentException("layer " + layer.getName() + " has both include and exclude specified.");
    }
    boolean included = layer.getIncludeCount() == 0;
    for (NetStateRule r : layer.getIncludeList()) {
      included = included || r.getPhase() == phase;
    }
    for (NetStateRule r : layer.getExcludeList()) {
      included = included && r.getPhase() != phase;
    }
    return included;
  }

  static String layerLabel(LayerParameter layer, String rankdir) {
    String sep = rankdir.equals("TB") || rankdir.equals("BT") ? " " : "\n";
    List<String> parts = new ArrayList<>();
    parts.add(layer.getName());
    if (layer.getType().equals("Pooling")) {
      parts.add("(Pooling " + layer.getPoolingParam().getPool().name() + ")");
    } else {
      parts.add("(" + layer.getType() + ")");
    }
    if (layer.getType().equals("Convolution") || layer.getType().equals("Deconvolution")) {
      var c = layer.getConvolutionParam();
      parts.add("kernel size: " + (c.getKernelSizeCount() > 0 ? c.getKernelSize(0) : c.getKernelH()));
      parts.add("stride: " + (c.getStrideCount() > 0 ? c.getStride(0) : 1));
      parts.add("pad: " + (c.getPadCount() > 0 ? c.getPad(0) : 0));
    } else if (layer.getType().equals("Pooling")) {
      var p = layer.getPoolingParam();
      parts.add("kernel size: " + p.getKernelSize());
      parts.add("stride: " + p.getStride());
      parts.add("pad: " + p.getPad());
    }
    return String.join(sep, parts);
  }

  static String color(String type) {
    return switch (type) {
      case "Convolution", "Deconvolution" -> "#FF5050";
      case "Pooling" -> "#FF9900";
      case "InnerProduct" -> "#CC33FF";
      default -> "#6495ED";
    };
  }

  static String edgeLabel(LayerParameter layer) {
    return switch (layer.getType()) {
      case "Data" -> "Batch " + layer.getDataParam().getBatchSize();
      case "Convolution", "Deconvolution" -> Integer.toString(layer.getConvolutionParam().getNumOutput());
      case "InnerProduct" -> Integer.toString(layer.getInnerProductParam().getNumOutput());
      default -> "";
    };
  }

  /** A DOT string literal of label syntax: only quotes need escaping, newlines become \n. */
  static String quote(String label) {
    return "\"" + label.replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  /** Text shown as itself in a plain label: a backslash would start an escape. */
  static String plainText(String s) {
    return s.replace("\\", "\\\\");
  }

  /**
   * Text shown as itself in a record label, where { } | < > would make fields and ports: a layer
   * named {@code <script>} must read as that name, not lose it as a port.
   */
  static String recordText(String s) {
    return plainText(s).replaceAll("([{}|<>])", "\\\\$1");
  }
}
