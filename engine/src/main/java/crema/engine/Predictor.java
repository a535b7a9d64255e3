package crema.engine;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import java.util.Arrays;
import java.util.List;

/**
 * Applies a trained model to rows of features: a deploy net (one Input blob, one output such as
 * a Softmax "prob") with weights copied in, run in the TEST phase on batches of any size. Not safe
 * for concurrent use: callers serialise or keep one per thread.
 */
public final class Predictor implements AutoCloseable {
  private final Net net;
  private final Blob input;
  private final Blob output;
  private final String outputName;
  private final int[] itemShape;

  public Predictor(NetParameter deploy, NetParameter weights) {
    net = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()));
    if (net.inputNames().size() != 1) {
      throw new NetException("net '" + net.name() + "': a deploy net needs exactly one Input blob, found "
          + net.inputNames());
    }
    if (net.outputNames().size() != 1) {
      throw new NetException("net '" + net.name() + "': a deploy net needs exactly one output blob, found "
          + net.outputNames());
    }
    net.copyTrainedLayersFrom(weights);
    input = net.blob(net.inputNames().get(0));
    outputName = net.outputNames().get(0);
    output = net.blob(outputName);
    int[] s = input.shape();
    if (s.length == 0) {
      throw new NetException("net '" + net.name() + "': the Input blob has no shape");
    }
    itemShape = Arrays.copyOfRange(s, 1, s.length);
  }

  public Net net() {
    return net;
  }

  /** Values per input row: C·H·W of the Input blob. */
  public int inputSize() {
    int n = 1;
    for (int d : itemShape) {
      n *= d;
    }
    return n;
  }

  public String outputName() {
    return outputName;
  }

  /** Values per output row (the number of classes for a classifier). */
  public int outputSize() {
    return output.count() / Math.max(1, output.shape(0));
  }

  /** Runs the rows through the net in one batch; each row must hold {@link #inputSize()} values. */
  public float[][] predict(float[][] rows) {
    int n = rows.length;
    int size = inputSize();
    int[] shape = new int[itemShape.length + 1];
    shape[0] = n;
    System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
    if (input.shape(0) != n) {
      input.reshape(shape);
      net.reshape();
    }
    float[] x = input.data();
    for (int i = 0; i < n; i++) {
      if (rows[i].length != size) {
        throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values; the net takes " + size);
      }
      System.arraycopy(rows[i], 0, x, i * size, size);
    }
    net.forward();
    int per = output.count() / n;
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) {
      out[i] = Arrays.copyOfRange(output.data(), i * per, (i + 1) * per);
    }
    return out;
  }

  /**
   * Runs {@code n} rows, packed one after another in {@code rows} ({@link #inputSize()} values
   * each), and writes their {@code n × }{@link #outputSize()} outputs into {@code out}. Unlike
   * {@link #predict(float[][])} it allocates nothing once the net has run a batch of {@code n}
   * rows: a server that keeps the arrays per thread answers without garbage.
   */
  public void predict(float[] rows, int n, float[] out) {
    int size = inputSize();
    if (n < 1 || rows.length < n * size) {
      throw new IllegalArgumentException(n + " rows need " + n * size + " values; got " + rows.length);
    }
    if (input.shape(0) != n) {
      int[] shape = new int[itemShape.length + 1];
      shape[0] = n;
      System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
      input.reshape(shape);
      net.reshape();
    }
    System.arraycopy(rows, 0, input.data(), 0, n * size);
    net.forward();
    int count = output.count();
    if (out.length < count) {
      throw new IllegalArgumentException(n + " rows give " + count + " outputs; the array holds " + out.length);
    }
    System.arraycopy(output.dataReadOnly(), 0, out, 0, count);
  }

  @Override
  public void close() {
    net.close();
  }
}
