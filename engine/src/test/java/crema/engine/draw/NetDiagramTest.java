package crema.engine.draw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import caffe.Caffe.NetParameter;
import crema.engine.io.Prototxt;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NetDiagramTest {
  static final NetParameter NET = Prototxt.parseNet("""
      name: "n\\\\et"
      layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 } } }
      layer { name: "<script>alert(1)</script>" type: "InnerProduct" bottom: "x" top: "a{b|c}"
        inner_product_param { num_output: 2 } }
      layer { name: "q\\"uote\\\\" type: "ReLU" bottom: "a{b|c}" top: "a{b|c}" }
      """, "test net");

  @Test
  void recordSpecialsAreEscapedAndLayersCarryTheirIndex() {
    String dot = NetDiagram.dot(NET, "LR", null);
    assertTrue(dot.contains("\"\\<script\\>alert(1)\\</script\\>\\n(InnerProduct)\""), dot);
    assertTrue(dot.contains("\"a{b|c}\""), "a blob's plain label keeps its braces: " + dot);
    assertTrue(dot.contains("\"q\\\"uote\\\\\\n(ReLU)\""), dot);
    assertTrue(dot.contains("id=\"layer1\""), dot);
    assertFalse(dot.contains("id=\"layer3\""), dot);
  }

  /** The structure the dashboard lays out: the same nodes, labels and edges as the DOT. */
  @Test
  void diagramHasANodePerLayerAndBlobAndEdgesBetweenTheirIds() {
    NetDiagram.Diagram d = NetDiagram.diagram(NET, "LR", null);
    List<String> layerIds = d.nodes().stream().filter(n -> n.shape() == NetDiagram.Shape.LAYER).map(NetDiagram.Node::id)
        .toList();
    assertEquals(List.of("layer0", "layer1", "layer2"), layerIds);
    for (NetDiagram.Node n : d.nodes()) {
      if (n.shape() == NetDiagram.Shape.LAYER) {
        assertEquals(NET.getLayer(n.layer()).getName(), n.lines().get(0), "a layer's first line is its name");
        assertEquals("(" + NET.getLayer(n.layer()).getType() + ")", n.lines().get(1));
      }
    }
    Map<String, NetDiagram.Node> byId = new HashMap<>();
    d.nodes().forEach(n -> assertNull(byId.put(n.id(), n), "ids are unique: " + n.id()));
    // x is read by the InnerProduct (an octagon); a{b|c} is rewritten in place by the ReLU (plain).
    assertEquals(NetDiagram.Shape.BLOB, d.nodes().stream().filter(n -> n.lines().equals(List.of("x"))).findFirst()
        .orElseThrow().shape());
    assertEquals(NetDiagram.Shape.PLAIN_BLOB, d.nodes().stream().filter(n -> n.lines().equals(List.of("a{b|c}")))
        .findFirst().orElseThrow().shape());
    assertEquals(5, d.edges().size(), "in→x, x→ip, ip→a, a→relu, relu→a");
    for (NetDiagram.Edge e : d.edges()) {
      assertTrue(byId.containsKey(e.from()) && byId.containsKey(e.to()), e.toString());
    }
    assertEquals("2", d.edges().stream().filter(e -> e.from().equals("layer1")).findFirst().orElseThrow().label(),
        "num_output on the InnerProduct's edge");
  }

  /** Graphviz itself reads the names back as they were written. */
  @Test
  void graphvizShowsTheNamesAsText() throws Exception {
    String svg;
    try {
      svg = new String(Graphviz.render(NetDiagram.dot(NET, "LR", null), "svg"), StandardCharsets.UTF_8);
    } catch (Graphviz.MissingException e) {
      assumeTrue(false, e.getMessage());
      return;
    }
    assertTrue(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), svg);
    assertFalse(svg.contains("<script"), svg);
    assertTrue(svg.contains("<g id=\"layer1\" class=\"node\">"), svg);
    assertTrue(svg.contains(">a{b|c}<"), svg);
    assertTrue(svg.contains("q&quot;uote\\"), svg);
  }
}
