package crema.engine.layers;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.MemoryDataParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.Resumable;
import java.util.List;

/**
 * Batches from arrays held in memory, set with {@link #reset}: N items of channels×height×width
 * floats and N labels, N a multiple of batch_size; reading wraps around.
 */
@LayerType("MemoryData")
final class MemoryDataLayer extends Layer implements Resumable {
  private final MemoryDataParameter p;
  private int itemSize;
  private float[] data;
  private float[] labels;
  private int n;
  private long position;

  MemoryDataLayer(LayerParameter param) {
    super(param);
    p = param().getMemoryDataParam();
  }

  @Override
  protected int exactBottoms() {
    return 0;
  }

  @Override
  protected int exactTops() {
    return 2;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    if (p.getBatchSize() <= 0 || p.getChannels() <= 0 || p.getHeight() <= 0 || p.getWidth() <= 0) {
      throw new IllegalArgumentException(
          "memory_data_param needs batch_size, channels, height and width > 0");
    }
    itemSize = p.getChannels() * p.getHeight() * p.getWidth();
    top.get(0).reshape(p.getBatchSize(), p.getChannels(), p.getHeight(), p.getWidth());
    top.get(1).reshape(p.getBatchSize());
  }

  /** Sets the arrays to read: {@code count} items, a multiple of batch_size. */
  public void reset(float[] data, float[] labels, int count) {
    if (count % p.getBatchSize() != 0) {
      throw new IllegalArgumentException("num_images (" + count + ") must be a multiple of batch_size ("
          + p.getBatchSize() + ")");
    }
    if (data.length < count * itemSize || labels.length < count) {
      throw new IllegalArgumentException("arrays hold fewer than " + count + " items of " + itemSize);
    }
    this.data = data;
    this.labels = labels;
    this.n = count;
    this.position = 0;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    if (data == null) {
      throw new IllegalStateException("MemoryData layer '" + name() + "' needs reset() before forward");
    }
    int bs = p.getBatchSize();
    int start = (int) (position % n);
    System.arraycopy(data, start * itemSize, top.get(0).data(), 0, bs * itemSize);
    System.arraycopy(labels, start, top.get(1).data(), 0, bs);
    position += bs;
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}

  @Override
  public long readPosition() {
    return position;
  }

  @Override
  public void seekReadPosition(long pos) {
    position = pos;
  }

  @Override
  public String readSource() {
    return "memory";
  }
}
