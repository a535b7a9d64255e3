package crema.engine.layers;

import caffe.Caffe.InnerProductParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Filler;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.math.DeviceBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * A fully connected layer: y = x·Wᵀ + b, with x flattened from {@code axis} on. W is (N, K), or
 * (K, N) with {@code transpose}. The GEMM calls are Caffe's, in Caffe's order.
 */
@LayerType("InnerProduct")
final class InnerProductLayer extends Layer {
  private final InnerProductParameter p;
  private int m;
  private int k;
  private int n;
  private float[] biasMultiplier = new float[0];
  /** The bias multiplier as a blob, for the device() path (uploaded once, then only read). */
  private final Blob ones = new Blob(0);

  InnerProductLayer(LayerParameter param) {
    super(param);
    p = param().getInnerProductParam();
    if (!p.hasNumOutput()) {
      throw new IllegalArgumentException("inner_product_param.num_output is required");
    }
  }

  @Override
  protected int exactBottoms() {
    return 1;
  }

  @Override
  protected int exactTops() {
    return 1;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    n = p.getNumOutput();
    int axis = bottom.get(0).canonicalAxis(p.getAxis());
    k = bottom.get(0).count(axis);
    Blob weights = p.getTranspose() ? new Blob(k, n) : new Blob(n, k);
    Filler.fill(p.getWeightFiller(), weights, rng());
    blobs().add(weights);
    if (p.getBiasTerm()) {
      Blob bias = new Blob(n);
      Filler.fill(p.getBiasFiller(), bias, rng());
      blobs().add(bias);
    }
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    Blob b = bottom.get(0);
    int axis = b.canonicalAxis(p.getAxis());
    int newK = b.count(axis);
    if (newK != k) {
      throw new IllegalArgumentException("Input size incompatible with inner product parameters: the"
          + " weights expect " + k + " inputs per example, the bottom " + b.shapeString()
          + " gives " + newK);
    }
    m = b.count(0, axis);
    if (!shapedFor(b, top.get(0), axis)) {
      int[] topShape = Arrays.copyOf(b.shape(), axis + 1);
      topShape[axis] = n;
      top.get(0).reshape(topShape);
    }
    if (p.getBiasTerm() && biasMultiplier.length < m) {
      biasMultiplier = new float[m];
      Arrays.fill(biasMultiplier, 1f);
    }
  }

  /**
   * Whether the top already is the bottom's leading axes then n: reshape runs on every forward,
   * and building the shape arrays to find nothing changed was all the garbage a predict made.
   */
  private boolean shapedFor(Blob b, Blob t, int axis) {
    if (t.numAxes() != axis + 1 || t.shape(axis) != n) {
      return false;
    }
    for (int i = 0; i < axis; i++) {
      if (t.shape(i) != b.shape(i)) {
        return false;
      }
    }
    return true;
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    float[] x = bottom.get(0).data();
    float[] y = top.get(0).data();
    float[] w = blobs().get(0).data();
    if (m == 1) {
      // One row (batch-1 inference): a matrix-vector product, as Caffe's GPU path does.
      if (p.getTranspose()) {
        math().gemv(true, k, n, 1f, w, 0, x, 0, 0f, y, 0);
      } else {
        math().gemv(false, n, k, 1f, w, 0, x, 0, 0f, y, 0);
      }
      if (p.getBiasTerm()) {
        math().axpy(n, 1f, blobs().get(1).data(), 0, y, 0);
      }
      return;
    }
    math().gemm(false, !p.getTranspose(), m, n, k, 1f, x, 0, w, 0, 0f, y, 0);
    if (p.getBiasTerm()) {
      math().gemm(false, false, m, n, 1, 1f, biasMultiplier, 0, blobs().get(1).data(), 0, 1f, y, 0);
    }
  }

  @Override
  public boolean hasDevicePath() {
    return true;
  }

  private DeviceBuffer onesOnDevice() {
    if (ones.count() < m) {
      ones.reshape(m);
      Arrays.fill(ones.data(), 1f);
    }
    return ones.deviceData(device());
  }

  @Override
  protected void forwardDevice(List<Blob> bottom, List<Blob> top) {
    DeviceBuffer x = bottom.get(0).deviceData(device());
    DeviceBuffer w = blobs().get(0).deviceData(device());
    DeviceBuffer y = top.get(0).mutableDeviceData(device());
    if (m == 1) {
      if (p.getTranspose()) {
        device().gemv(true, k, n, 1f, w, x, 0f, y);
      } else {
        device().gemv(false, n, k, 1f, w, x, 0f, y);
      }
      if (p.getBiasTerm()) {
        device().axpy(n, 1f, blobs().get(1).deviceData(device()), y);
      }
      return;
    }
    device().gemm(false, !p.getTranspose(), m, n, k, 1f, x, w, 0f, y);
    if (p.getBiasTerm()) {
      device().gemm(false, false, m, n, 1, 1f, onesOnDevice(), blobs().get(1).deviceData(device()), 1f, y);
    }
  }

  @Override
  protected void backwardDevice(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    DeviceBuffer dy = top.get(0).deviceDiff(device());
    DeviceBuffer x = bottom.get(0).deviceData(device());
    if (paramPropagateDown(0)) {
      DeviceBuffer dw = blobs().get(0).mutableDeviceDiff(device());
      if (p.getTranspose()) {
        device().gemm(true, false, k, n, m, 1f, x, dy, 1f, dw);
      } else {
        device().gemm(true, false, n, k, m, 1f, dy, x, 1f, dw);
      }
    }
    if (p.getBiasTerm() && paramPropagateDown(1)) {
      device().gemv(true, m, n, 1f, dy, onesOnDevice(), 1f, blobs().get(1).mutableDeviceDiff(device()));
    }
    if (propagateDown[0]) {
      device().gemm(false, p.getTranspose(), m, k, n, 1f, dy, blobs().get(0).deviceData(device()), 0f,
          bottom.get(0).mutableDeviceDiff(device()));
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {
    float[] dy = top.get(0).diff();
    float[] x = bottom.get(0).data();
    if (paramPropagateDown(0)) {
      float[] dw = blobs().get(0).diff();
      if (p.getTranspose()) {
        math().gemm(true, false, k, n, m, 1f, x, 0, dy, 0, 1f, dw, 0);
      } else {
        math().gemm(true, false, n, k, m, 1f, dy, 0, x, 0, 1f, dw, 0);
      }
    }
    if (p.getBiasTerm() && paramPropagateDown(1)) {
      math().gemv(true, m, n, 1f, dy, 0, biasMultiplier, 0, 1f, blobs().get(1).diff(), 0);
    }
    if (propagateDown[0]) {
      float[] dx = bottom.get(0).diff();
      math().gemm(false, p.getTranspose(), m, k, n, 1f, dy, 0, blobs().get(0).data(), 0, 0f, dx, 0);
    }
  }
}
