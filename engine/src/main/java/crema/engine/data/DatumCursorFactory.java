package crema.engine.data;

import caffe.Caffe.DataParameter;

/** Opens a cursor for a Data layer's {@code data_param}; one factory per DataParameter.DB backend. */
@FunctionalInterface
public interface DatumCursorFactory {
  DatumCursor open(DataParameter param);
}
