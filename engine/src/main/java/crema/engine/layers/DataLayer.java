package crema.engine.layers;

import caffe.Caffe.DataParameter;
import caffe.Caffe.Datum;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.Resumable;
import crema.engine.data.DatumCursor;
import crema.engine.data.DatumSources;
import crema.engine.data.DatumTransformer;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads batches of Datum records from a DB (LMDB, or a backend registered by the caller) in key
 * order, wrapping around, transformed by transform_param. A background thread prepares up to
 * {@code data_param.prefetch} batches ahead; the read position recorded for resuming counts only
 * the batches forward has consumed.
 */
@LayerType("Data")
final class DataLayer extends Layer implements Resumable {
  private static final System.Logger LOG = System.getLogger(DataLayer.class.getName());

  private record Batch(float[] data, float[] label, long endPosition, RuntimeException error) {}

  private final DataParameter p;
  private DatumCursor cursor;
  private DatumTransformer transformer;
  private int batchSize;
  private int[] itemShape;
  private int itemSize;
  private BlockingQueue<Batch> full;
  private Thread prefetcher;
  private volatile boolean stopping;
  private long consumed;

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
    batchSize = p.getBatchSize();
    if (batchSize <= 0) {
      throw new IllegalArgumentException("data_param.batch_size must be positive");
    }
    cursor = DatumSources.open(p);
    transformer = new DatumTransformer(param().getTransformParam(), phase(), rng());
    Datum first = cursor.peek();
    transformer.check(first, this::where);
    itemShape = transformer.itemShape(first);
    itemSize = itemShape[0] * itemShape[1] * itemShape[2];
    top.get(0).reshape(batchSize, itemShape[0], itemShape[1], itemShape[2]);
    if (top.size() > 1) {
      top.get(1).reshape(batchSize);
    }
    LOG.log(Level.INFO, "output data size: " + batchSize + "," + itemShape[0] + "," + itemShape[1]
        + "," + itemShape[2]);
    consumed = cursor.position();
    startPrefetch();
  }

  private String where() {
    return where(cursor.position(), cursor.key());
  }

  private String where(long position, String key) {
    return "data layer '" + name() + "', source '" + cursor.source() + "', record " + position
        + (key.isEmpty() ? "" : " (key '" + key + "')");
  }

  private void startPrefetch() {
    full = new ArrayBlockingQueue<>(Math.max(1, p.getPrefetch()));
    stopping = false;
    prefetcher = new Thread(this::prefetchLoop, "prefetch-" + name());
    prefetcher.setDaemon(true);
    prefetcher.start();
  }

  private void prefetchLoop() {
    try {
      while (!stopping) {
        Batch b;
        try {
          b = loadBatch();
        } catch (RuntimeException e) {
          b = new Batch(null, null, -1, e);
        }
        full.put(b);
        if (b.error() != null) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Batch loadBatch() {
    float[] data = new float[batchSize * itemSize];
    float[] label = new float[batchSize];
    for (int i = 0; i < batchSize; i++) {
      long position = cursor.position();
      String key = cursor.key();
      Datum d = cursor.next();
      transformer.check(d, () -> where(position, key));
      transformer.transform(d, data, i * itemSize);
      label[i] = d.getLabel();
    }
    return new Batch(data, label, cursor.position(), null);
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {
    // Shapes are fixed by the first record (checked for every record as it is read).
  }

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    Batch b = full.poll();
    if (b == null) {
      LOG.log(Level.DEBUG, "Data layer prefetch queue empty");
      try {
        b = full.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DataException("interrupted while waiting for data from " + cursor.source());
      }
    }
    if (b.error() != null) {
      throw b.error();
    }
    System.arraycopy(b.data(), 0, top.get(0).data(), 0, b.data().length);
    if (top.size() > 1) {
      System.arraycopy(b.label(), 0, top.get(1).data(), 0, batchSize);
    }
    consumed = b.endPosition();
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}

  @Override
  public long readPosition() {
    return consumed;
  }

  @Override
  public synchronized void seekReadPosition(long position) {
    stopPrefetch();
    cursor.seek(position);
    consumed = position;
    startPrefetch();
  }

  @Override
  public String readSource() {
    return p.getSource();
  }

  private void stopPrefetch() {
    stopping = true;
    if (prefetcher != null) {
      prefetcher.interrupt();
      try {
        prefetcher.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    full.clear();
  }

  @Override
  public void close() {
    if (cursor != null) {
      stopPrefetch();
      cursor.close();
      cursor = null;
    }
  }
}
