package crema.engine.draw;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import caffe.Caffe.NetParameter;
import crema.engine.io.Prototxt;
import java.nio.charset.StandardCharsets;
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
