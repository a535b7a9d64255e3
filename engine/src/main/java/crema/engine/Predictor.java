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

  @Override
  public void close() {
    net.close();
  }
}
