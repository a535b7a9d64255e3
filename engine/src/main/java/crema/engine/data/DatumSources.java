package crema.engine.data;

import caffe.Caffe.DataParameter;
import caffe.Caffe.DataParameter.DB;
import crema.engine.DataException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The backends a Data layer can read: LMDB here; others (Kafka, in the trainer) are registered by
 * whoever provides them, so the engine knows nothing of them.
 */
public final class DatumSources {
  private static final Map<DB, DatumCursorFactory> FACTORIES = new EnumMap<>(DB.class);

  static {
    FACTORIES.put(DB.LMDB, LmdbCursor::open);
  }

  private DatumSources() {}

  public static synchronized void register(DB backend, DatumCursorFactory factory) {
    FACTORIES.put(backend, factory);
  }

  public static DatumCursor open(DataParameter param) {
    DatumCursorFactory f;
    synchronized (DatumSources.class) {
      f = FACTORIES.get(param.getBackend());
    }
    if (f == null) {
      String hint = param.getBackend() == DB.LEVELDB
          ? " (LEVELDB is Caffe's default backend: write `backend: LMDB` in data_param)" : "";
      throw new DataException("data source '" + param.getSource() + "': backend "
          + param.getBackend() + " is not available" + hint);
    }
    return f.open(param);
  }
}
