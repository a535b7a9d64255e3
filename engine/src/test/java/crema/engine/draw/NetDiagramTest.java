package crema.engine.draw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import caffe.Caffe.NetParameter;
import crema.engine.io.Prototxt;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
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
    Process p;
    try {
      p = new ProcessBuilder("dot", "-Tsvg").start();
    } catch (java.io.IOException e) {
      assumeTrue(false, "Graphviz's dot is not installed: " + e.getMessage());
      return;
    }
    p.getOutputStream().write(NetDiagram.dot(NET, "LR", null).getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String svg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), svg);
    assertTrue(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), svg);
    assertFalse(svg.contains("<script"), svg);
    assertTrue(svg.contains("<g id=\"layer1\" class=\"node\">"), svg);
    assertTrue(svg.contains(">a{b|c}<"), svg);
    assertTrue(svg.contains("q&quot;uote\\"), svg);
  }
}
