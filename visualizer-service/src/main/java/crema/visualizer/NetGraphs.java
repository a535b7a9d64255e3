package crema.visualizer;

import caffe.Caffe.BlobShape;
import caffe.Caffe.InputParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import com.fasterxml.jackson.annotation.JsonInclude;
import crema.engine.Blob;
import crema.engine.Net;
import crema.engine.draw.NetDiagram;
import crema.engine.io.Prototxt;
import io.micronaut.context.annotation.Requires;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's nets as the dashboard draws them: {@link NetDiagram}'s nodes and edges (draw_net's look:
 * layers as coloured boxes with id {@code layer<i>}, blobs as octagons, edges labelled with the batch
 * or num_output), which the page lays out itself (dagre, from its WebJar), so the server runs no
 * Graphviz; and, per layer, what hovering shows: type, parameters, the shapes of its blobs and its
 * parameter count. Shapes come from building the net with the engine; the train/test net's Data
 * layers become Input layers of the shape the deploy net's input and the batch size give, so
 * building it reads no data.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Singleton
public class NetGraphs {
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record BlobInfo(String name, int[] shape) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record LayerInfo(int index, String name, String type, String params, List<BlobInfo> bottoms, List<BlobInfo> tops,
      long paramCount, List<String> phases) {}

  /** A node to lay out: {@code shape} is LAYER, BLOB or PLAIN_BLOB; {@code layer} the layer's index or -1. */
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record GraphNode(String id, String shape, List<String> lines, String fill, int layer) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record GraphEdge(String from, String to, String label) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Graph(String rankdir, List<GraphNode> nodes, List<GraphEdge> edges, List<LayerInfo> layers, String error) {}

  /** Left to right, as the dashboard has always drawn nets (the width of a page suits a chain of layers). */
  static final String RANKDIR = "LR";

  private record Key(String net, String deploy, String what) {}

  private final Map<Key, Graph> cache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Graph> eldest) {
      return size() > 32;
    }
  };

  synchronized Graph graph(String netText, String deployText, String what) {
    Key key = new Key(netText, deployText, what);
    Graph g = cache.get(key);
    if (g == null) {
      g = build(netText, deployText, what);
      cache.put(key, g);
    }
    return g;
  }

  static Graph build(String netText, String deployText, String what) {
    NetParameter net = Prototxt.parseNet(netText, what);
    NetDiagram.Diagram diagram = NetDiagram.diagram(net, RANKDIR, null);
    List<GraphNode> nodes = diagram.nodes().stream()
        .map(n -> new GraphNode(n.id(), n.shape().name(), n.lines(), n.fill(), n.layer())).toList();
    List<GraphEdge> edges = diagram.edges().stream().map(e -> new GraphEdge(e.from(), e.to(), e.label())).toList();
    String error = "";
    List<Net> built = new ArrayList<>();
    List<List<LayerParameter>> admitted = new ArrayList<>();
    NetParameter shaped = net;
    try {
      int[] sample = deployText.isEmpty() ? null : sampleShape(Prototxt.parseNet(deployText, what + " (deploy)"));
      shaped = withInputsForData(net, sample);
      boolean hasPhases = net.getLayerList().stream().anyMatch(l -> l.getIncludeCount() + l.getExcludeCount() > 0);
      for (Phase p : hasPhases ? List.of(Phase.TRAIN, Phase.TEST) : List.of(Phase.TEST)) {
        var state = Net.state(shaped, p, 0, List.of());
        built.add(new Net(shaped, state));
        admitted.add(Net.filter(shaped, state).getLayerList());
      }
    } catch (RuntimeException e) {
      // A net the engine cannot build still gets its graph; shapes are what is lost, and said.
      error = "blob shapes unknown: " + e.getMessage();
    }
    List<LayerInfo> layers = new ArrayList<>();
    for (int i = 0; i < net.getLayerCount(); i++) {
      LayerParameter l = net.getLayer(i);
      List<String> phases = new ArrayList<>();
      Net in = null;
      for (int k = 0; k < built.size(); k++) {
        // By the layer itself, not its name: a TRAIN and a TEST Data layer are both "data".
        if (admitted.get(k).contains(shaped.getLayer(i))) {
          phases.add(built.get(k).phase().name());
          in = in == null ? built.get(k) : in;
        }
      }
      long count = 0;
      if (in != null) {
        for (Blob b : in.layer(l.getName()).blobs()) {
          count += b.count();
        }
      }
      String params = Prototxt.print(l.toBuilder().clearName().clearType().clearBottom().clearTop().clearBlobs()
          .build()).trim();
      layers.add(new LayerInfo(i, l.getName(), l.getType(), params, blobs(l.getBottomList(), in),
          blobs(l.getTopList(), in), count, phases));
    }
    built.forEach(Net::close);
    return new Graph(RANKDIR, nodes, edges, layers, error);
  }

  private static List<BlobInfo> blobs(List<String> names, Net in) {
    List<BlobInfo> out = new ArrayList<>();
    for (String n : names) {
      int[] shape = null;
      if (in != null && in.blobNames().contains(n)) {
        shape = in.blob(n).shape();
      }
      out.add(new BlobInfo(n, shape));
    }
    return out;
  }

  /** One example's shape: the deploy net's first input without its batch axis. */
  static int[] sampleShape(NetParameter deploy) {
    try (Net d = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()))) {
      int[] s = d.blob(d.inputNames().get(0)).shape();
      return Arrays.copyOfRange(s, 1, s.length);
    }
  }

  /** Data layers replaced by Input layers of (batch, sample...) and (batch) for the label. */
  static NetParameter withInputsForData(NetParameter net, int[] sample) {
    NetParameter.Builder b = net.toBuilder();
    for (int i = 0; i < b.getLayerCount(); i++) {
      LayerParameter l = b.getLayer(i);
      if (!l.getType().equals("Data")) {
        continue;
      }
      if (sample == null) {
        throw new IllegalArgumentException("the net reads Data layers and there is no deploy net to give their shape");
      }
      int batch = (int) l.getDataParam().getBatchSize();
      InputParameter.Builder in = InputParameter.newBuilder();
      BlobShape.Builder data = BlobShape.newBuilder().addDim(batch);
      for (int d : sample) {
        data.addDim(d);
      }
      in.addShape(data);
      if (l.getTopCount() > 1) {
        in.addShape(BlobShape.newBuilder().addDim(batch));
      }
      b.setLayer(i, l.toBuilder().setType("Input").clearDataParam().clearTransformParam().setInputParam(in));
    }
    return b.build();
  }
}
