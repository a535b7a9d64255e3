package crema.engine.layers;

import caffe.Caffe.HDF5DataParameter;
import caffe.Caffe.LayerParameter;
import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.Layer;
import crema.engine.LayerType;
import crema.engine.Resumable;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Batches from HDF5 files listed in {@code source}, one path per line. Each top reads the dataset
 * of its own name; the first dimension is the row and must agree across tops. Files are read
 * whole; {@code shuffle} shuffles the file order and the rows within a file.
 */
@LayerType("HDF5Data")
final class HDF5DataLayer extends Layer implements Resumable {
  private final HDF5DataParameter p;
  private final List<String> files = new ArrayList<>();
  private List<Integer> fileOrder;
  private int currentFile;
  private float[][] columns;
  private int[][] shapes;
  private int rows;
  private List<Integer> rowOrder;
  private int currentRow;
  private long position;

  HDF5DataLayer(LayerParameter param) {
    super(param);
    p = param().getHdf5DataParam();
    if (param().hasTransformParam()) {
      throw new IllegalArgumentException("HDF5Data does not transform data (remove transform_param)");
    }
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
  protected void layerSetUp(List<Blob> bottom, List<Blob> top) {
    Path list = Path.of(p.getSource());
    try {
      for (String line : Files.readAllLines(list)) {
        if (!line.isBlank()) {
          files.add(line.strip());
        }
      }
    } catch (IOException e) {
      throw new DataException("HDF5Data '" + name() + "': cannot read source list '" + list + "': "
          + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new DataException("HDF5Data '" + name() + "': source list '" + list + "' names no files");
    }
    if (p.getBatchSize() <= 0) {
      throw new IllegalArgumentException("hdf5_data_param.batch_size must be positive");
    }
    fileOrder = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      fileOrder.add(i);
    }
    if (p.getShuffle()) {
      Collections.shuffle(fileOrder, rng().random());
    }
    currentFile = 0;
    load(top);
    for (int t = 0; t < top.size(); t++) {
      int[] s = shapes[t].clone();
      s[0] = p.getBatchSize();
      top.get(t).reshape(s);
    }
  }

  private void load(List<Blob> top) {
    String file = files.get(fileOrder.get(currentFile));
    try (HdfFile h5 = new HdfFile(Path.of(file))) {
      columns = new float[top.size()][];
      shapes = new int[top.size()][];
      for (int t = 0; t < top.size(); t++) {
        String ds = param().getTop(t);
        Dataset d;
        try {
          d = h5.getDatasetByPath(ds);
        } catch (RuntimeException e) {
          throw new DataException("HDF5 file '" + file + "' has no dataset '" + ds + "' (top " + t
              + " of layer '" + name() + "')");
        }
        shapes[t] = d.getDimensions();
        if (shapes[t].length == 0) {
          throw new DataException("HDF5 dataset '" + ds + "' in '" + file + "' is a scalar; need rows");
        }
        columns[t] = flatten(d.getDataFlat(), file, ds);
      }
    } catch (DataException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new DataException("cannot read HDF5 file '" + file + "': " + e.getMessage(), e);
    }
    rows = shapes[0][0];
    for (int t = 1; t < shapes.length; t++) {
      if (shapes[t][0] != rows) {
        throw new DataException("HDF5 file '" + file + "': dataset '" + param().getTop(t) + "' has "
            + shapes[t][0] + " rows, '" + param().getTop(0) + "' has " + rows);
      }
    }
    rowOrder = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      rowOrder.add(i);
    }
    if (p.getShuffle()) {
      Collections.shuffle(rowOrder, rng().random());
    }
    currentRow = 0;
  }

  private static float[] flatten(Object flat, String file, String ds) {
    int n = Array.getLength(flat);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      Object v = Array.get(flat, i);
      if (!(v instanceof Number num)) {
        throw new DataException("HDF5 dataset '" + ds + "' in '" + file
            + "' is not numeric (only float and integer classes can be read)");
      }
      out[i] = num.floatValue();
    }
    return out;
  }

  @Override
  public void reshape(List<Blob> bottom, List<Blob> top) {}

  @Override
  protected void forwardCpu(List<Blob> bottom, List<Blob> top) {
    int bs = p.getBatchSize();
    for (int i = 0; i < bs; i++) {
      if (currentRow == rows) {
        currentFile = (currentFile + 1) % files.size();
        if (currentFile == 0 && p.getShuffle()) {
          Collections.shuffle(fileOrder, rng().random());
        }
        if (files.size() > 1 || p.getShuffle()) {
          load(top);
        } else {
          currentRow = 0;
        }
      }
      int row = rowOrder.get(currentRow);
      for (int t = 0; t < top.size(); t++) {
        int width = columns[t].length / rows;
        System.arraycopy(columns[t], row * width, top.get(t).data(), i * width, width);
      }
      currentRow++;
      position++;
    }
  }

  @Override
  protected void backwardCpu(List<Blob> top, boolean[] propagateDown, List<Blob> bottom) {}

  @Override
  public long readPosition() {
    return position;
  }

  @Override
  public void seekReadPosition(long target) {
    if (p.getShuffle()) {
      throw new DataException("HDF5Data '" + name() + "' with shuffle cannot resume at a read position");
    }
    // Without shuffling the order is fixed: skip whole files, then rows.
    position = 0;
    currentFile = 0;
    List<Blob> tops = new ArrayList<>();
    for (int t = 0; t < columns.length; t++) {
      tops.add(new Blob());
    }
    load(tops);
    long left = target;
    while (left >= rows) {
      left -= rows;
      currentFile = (currentFile + 1) % files.size();
      load(tops);
    }
    currentRow = (int) left;
    position = target;
  }

  @Override
  public String readSource() {
    return p.getSource();
  }
}
