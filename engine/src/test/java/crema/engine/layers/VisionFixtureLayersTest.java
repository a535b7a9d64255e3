package crema.engine.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerRegistry;
import crema.engine.check.Conformance;
import crema.engine.io.Prototxt;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pooling, LRN, SPP and Crop, one layer at a time, against what the real Caffe 1.0 computed in
 * one Forward and Backward of {@code fixtures/vision-mini/layers/layers_net.prototxt}: the layer
 * gets its bottoms' data from the dump, its top data is compared with the dump's, then it gets the
 * dump's top gradient and its bottom gradient is compared with the dump's gradient of the blob it
 * consumed (a Split copy where the blob feeds several layers). Element-wise error
 * |crema − caffe| / max(|caffe|, 1e-3) ≤ 1e-5 ({@link Conformance#relativeError}).
 */
class VisionFixtureLayersTest {
  private static final String ROOT = "/vision-mini/layers/";
  private static final double TOLERANCE = Conformance.LAYER_TOLERANCE;
  private static final Map<String, String> WORST = new TreeMap<>();

  private record Entry(String type, List<String> bottoms, List<String> tops) {}

  private static Map<String, Entry> layers;
  private static Map<String, int[]> shapes;
  private static NetParameter net;

  private static synchronized void load() {
    if (layers != null) {
      return;
    }
    layers = new HashMap<>();
    for (String line : text("dump/layers.txt").split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\|", -1);
      String[] head = parts[0].trim().split("\\s+");
      layers.put(head[1], new Entry(head[2], words(parts[1]), words(parts[2])));
    }
    shapes = new HashMap<>();
    for (String line : text("dump/shapes.txt").split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (line.startsWith("#") || w.length < 3 || !w[1].equals("blob")) {
        continue;
      }
      shapes.put(w[0], w[2].equals("scalar") ? new int[0]
          : Arrays.stream(w[2].split("x")).mapToInt(Integer::parseInt).toArray());
    }
    net = Prototxt.parseNet(text("layers_net.prototxt"), "layers_net.prototxt");
  }

  private static List<String> words(String s) {
    return s.isBlank() ? List.of() : List.of(s.trim().split("\\s+"));
  }

  private static byte[] bytes(String file) {
    try (InputStream in = VisionFixtureLayersTest.class.getResourceAsStream(ROOT + file)) {
      assertNotNull(in, "fixture file " + ROOT + file + " is not on the test classpath");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String text(String file) {
    return new String(bytes(file), StandardCharsets.UTF_8);
  }

  private static float[] floats(String file) {
    ByteBuffer b = ByteBuffer.wrap(bytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  private static Blob blob(String name) {
    int[] shape = shapes.get(name);
    assertNotNull(shape, "no shape for blob " + name);
    Blob b = new Blob(shape);
    float[] d = floats("dump/blobs/" + name + ".data.bin");
    assertEquals(b.count(), d.length, name + " data size");
    System.arraycopy(d, 0, b.data(), 0, d.length);
    return b;
  }

  /** The largest element-wise error, asserted within the tolerance. */
  private static double compare(String what, float[] expected, float[] actual, int n) {
    assertEquals(expected.length, n, what + ": size");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < n; i++) {
      double err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), Conformance.ERROR_FLOOR);
      if (!(err <= worst)) {
        worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
        at = i;
      }
    }
    double w = worst;
    int i = at;
    assertTrue(worst <= TOLERANCE, () -> what + " differs from Caffe by " + w + " at element " + i
        + ": caffe " + expected[i] + ", crema " + actual[i]);
    return worst;
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool_max_odd", "pool_ave_odd_pad", "pool_max_ceil", "pool_ave_ceil_pad",
      "pool_max_pad", "pool_ave_ceil", "gpool_ave", "gpool_max", "lrn_across", "lrn_within",
      "lrn_across_big", "spp", "crop"})
  void matchesCaffe(String name) {
    load();
    Entry e = layers.get(name);
    assertNotNull(e, name + " is not in layers.txt");
    LayerParameter lp = net.getLayerList().stream().filter(l -> l.getName().equals(name))
        .findFirst().orElseThrow().toBuilder().setPhase(Phase.TRAIN).build();
    Layer layer = LayerRegistry.create(lp);
    assertEquals(e.type(), layer.type());
    List<Blob> bottom = new ArrayList<>();
    for (String b : e.bottoms()) {
      bottom.add(blob(b));
    }
    List<Blob> top = new ArrayList<>();
    for (int i = 0; i < e.tops().size(); i++) {
      top.add(new Blob());
    }
    layer.setUp(bottom, top);
    layer.forward(bottom, top);
    String t = e.tops().get(0);
    assertArrayEquals(shapes.get(t), top.get(0).shape(), name + ": top shape");
    double forward = compare(name + " top " + t, floats("dump/blobs/" + t + ".data.bin"),
        top.get(0).data(), top.get(0).count());

    float[] topDiff = floats("dump/blobs/" + t + ".diff.bin");
    System.arraycopy(topDiff, 0, top.get(0).diff(), 0, topDiff.length);
    boolean[] down = new boolean[bottom.size()];
    down[0] = true;
    Arrays.fill(bottom.get(0).diff(), Float.NaN);
    layer.backward(top, down, bottom);
    String b0 = e.bottoms().get(0);
    double backward = compare(name + " bottom diff " + b0, floats("dump/blobs/" + b0 + ".diff.bin"),
        bottom.get(0).diff(), bottom.get(0).count());
    synchronized (WORST) {
      WORST.put(name, String.format("forward %.2e  backward %.2e", forward, backward));
    }
  }

  @AfterAll
  static void report() {
    WORST.forEach((k, v) -> System.out.printf("vision-mini %-18s %s%n", k, v));
  }
}
