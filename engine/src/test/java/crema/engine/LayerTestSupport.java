package crema.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.Phase;
import crema.engine.io.Prototxt;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Building single layers and their blobs for layer tests. */
public final class LayerTestSupport {
  private LayerTestSupport() {}

  /** A layer from its prototxt text, in the TRAIN phase unless the text sets one. */
  public static Layer layer(String text) {
    LayerParameter.Builder b = LayerParameter.newBuilder();
    Prototxt.parse(text, "test layer", b);
    if (!b.hasPhase()) {
      b.setPhase(Phase.TRAIN);
    }
    if (!b.hasName()) {
      b.setName("under_test");
    }
    return LayerRegistry.create(b.build());
  }

  public static Blob gaussian(long seed, double std, int... shape) {
    Blob b = new Blob(shape);
    Random r = new Random(seed);
    for (int i = 0; i < b.count(); i++) {
      b.data()[i] = (float) (r.nextGaussian() * std);
    }
    return b;
  }

  public static Blob uniform(long seed, double lo, double hi, int... shape) {
    Blob b = new Blob(shape);
    Random r = new Random(seed);
    for (int i = 0; i < b.count(); i++) {
      b.data()[i] = (float) (lo + (hi - lo) * r.nextDouble());
    }
    return b;
  }

  public static Blob labels(long seed, int n, int classes) {
    Blob b = new Blob(n);
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      b.data()[i] = r.nextInt(classes);
    }
    return b;
  }

  public static Blob of(float[] values, int... shape) {
    Blob b = new Blob(shape);
    System.arraycopy(values, 0, b.data(), 0, values.length);
    return b;
  }

  public static List<Blob> list(Blob... blobs) {
    return new ArrayList<>(List.of(blobs));
  }

  public static List<Blob> tops(int n) {
    List<Blob> t = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      t.add(new Blob());
    }
    return t;
  }

  /**
   * Runs a neuron layer in place and on separate blobs with the same input and top gradient, and
   * asserts the bottom gradients agree: in place, the input is overwritten by the output.
   */
  public static void assertInPlaceMatches(String proto, java.util.function.Supplier<Blob> input) {
    Blob x = input.get();
    Blob separate = input.get();
    Layer a = layer(proto);
    Layer b = layer(proto);
    List<Blob> top = tops(1);
    a.setUp(list(separate), top);
    b.setUp(list(x), list(x));
    a.forward(list(separate), top);
    b.forward(list(x), list(x));
    for (int i = 0; i < x.count(); i++) {
      top.get(0).diff()[i] = (float) Math.sin(i);
      x.diff()[i] = (float) Math.sin(i);
    }
    a.backward(top, new boolean[] {true}, list(separate));
    b.backward(list(x), new boolean[] {true}, list(x));
    for (int i = 0; i < x.count(); i++) {
      org.junit.jupiter.api.Assertions.assertEquals(separate.diff()[i], x.diff()[i], 1e-6, "element " + i);
    }
  }

  /** Runs a check and asserts it compared something. */
  public static void assertChecked(GradientChecker c) {
    assertTrue(c.checked() > 0, "the gradient check compared no elements");
  }
}
