package crema.engine.layers;

import caffe.Caffe.DataParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.Resumable;
import crema.engine.data.DatumBatches;
import crema.engine.data.DatumSources;
import crema.engine.data.DatumTransformer;
import java.lang.System.Logger.Level;
import java.util.List;

/**
 * Reads batches of Datum records from a DB (LMDB, or a backend registered by the caller) in key
 * order, wrapping around, transformed by transform_param. Background threads prepare up to
 * {@code data_param.prefetch} batches ahead, decoding records without protobuf objects and keeping
 * them decoded when the source fits the memory budget ({@link DatumBatches}); the read position
 * recorded for resuming counts only the batches forward has consumed.
 */
@LayerType("Data")
final class DataLayer extends Layer implements Resumable {
  private static final System.Logger LOG = System.getLogger(DataLayer.class.getName());

  private final DataParameter p;
  private DatumBatches batches;

  DataLayer(LayerParameter param) {
    super(param);
    p = param().getDataParam();
  }

  @Override
  protected int exactBottoms() {
    return 0;
  }

  @Override
  protected int minTops() {
    return 1;
  }

  @Override
  protected int maxTops() {
    return 2;
  }

  @Override
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    int batchSize = p.getBatchSize();
    if (batchSize <= 0) {
      throw new IllegalArgumentException("data_param.batch_size must be positive");
    }
    var cursor = DatumSources.open(p);
    try {
      batches = new DatumBatches(cursor, new DatumTransformer(param().getTransformParam(), phase(), rng()),
          batchSize, p.getPrefetch(), name());
    } catch (RuntimeException e) {
      cursor.close();
      throw e;
    }
    int[] itemShape = batches.itemShape();
    top.get(0).reshape(batchSize, itemShape[0], itemShape[1], itemShape[2]);
    if (top.size() > 1) {
      top.get(1).reshape(batchSize);
    }
    LOG.log(Level.INFO, "output data size: " + batchSize + "," + itemShape[0] + "," + itemShape[1]
        + "," + itemShape[2]);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    // Shapes are fixed by the first record (checked for every record as it is read).
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    batches.next(top.get(0).data(), top.size() > 1 ? top.get(1).data() : null);
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}

  @Override
  public long readPosition() {
    return batches.position();
  }

  @Override
  public synchronized void seekReadPosition(long position) {
    batches.seek(position);
  }

  @Override
  public String readSource() {
    return p.getSource();
  }

  @Override
  public void close() {
    if (batches != null) {
      batches.close();
      batches = null;
    }
  }
}
