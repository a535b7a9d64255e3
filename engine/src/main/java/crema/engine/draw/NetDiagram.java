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
 * layer→top edges labelled "Batch N" for Data and num_output for InnerProduct/Convolution. Nodes
 * are identified by their labels, as pydot identifies them. Layout is left to Graphviz.
 */
public final class NetDiagram {
  /** {@code label} is already in DOT's label syntax (record specials escaped for records). */
  private record Node(String label, String style) {}

  private record Edge(String from, String to, String label) {}

  private NetDiagram() {}

  /**
   * The DOT text; {@code phase} null draws every layer (draw_net's ALL), else only those whose
   * include/exclude phase rules admit it.
   */
  public static String dot(NetParameter net, String rankdir, Phase phase) {
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
      String label = recordText(layerLabel(layer, rankdir));
      String key = layer.getName() + "_" + layer.getType();
      boolean inPlace = layer.getBottomCount() == 1 && layer.getTopCount() == 1
          && layer.getBottom(0).equals(layer.getTop(0));
      String color = inPlace ? "#90EE90" : color(layer.getType());
      // The id (layer<index> in the prototxt) names the node in SVG output, for the dashboard's hover.
      // Layers of one name and type (a TRAIN and a TEST Data layer) are one node, as in draw_net;
      // it keeps the first one's id.
      nodes.putIfAbsent(key, new Node(label, "shape=record, style=filled, fillcolor=\"" + color + "\", id=\"layer" + i + "\""));
      for (String b : layer.getBottomList()) {
        nodes.put(b + "_blob", new Node(plainText(b), "shape=octagon, style=filled, fillcolor=\"#E0E0E0\""));
        edges.add(new Edge(b + "_blob", key, ""));
      }
      for (String t : layer.getTopList()) {
        nodes.put(t + "_blob", new Node(plainText(t), ""));
        edges.add(new Edge(key, t + "_blob", edgeLabel(layer)));
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append("digraph ").append(quote(plainText(net.getName().isEmpty() ? "Net" : net.getName()))).append(" {\n");
    sb.append("  rankdir=").append(rankdir).append(";\n");
    for (Node n : nodes.values()) {
      sb.append("  ").append(quote(n.label()));
      if (!n.style().isEmpty()) {
        sb.append(" [").append(n.style()).append("]");
      }
      sb.append(";\n");
    }
    for (Edge e : edges) {
      sb.append("  ").append(quote(nodes.get(e.from()).label())).append(" -> ")
          .append(quote(nodes.get(e.to()).label())).append(" [label=").append(quote(e.label())).append("];\n");
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
