package crema.engine.layers;

import static crema.engine.LayerTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.Layer;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HDF5DataLayerTest {
  @TempDir
  Path dir;

  /** Caffe's sample_data.h5 layout: data (N, 2, 2) = arange, label = 1..N. */
  private Path write(String name, int rows, int offset) throws Exception {
    float[][][] data = new float[rows][2][2];
    double[] label = new double[rows];
    for (int n = 0; n < rows; n++) {
      for (int i = 0; i < 4; i++) {
        data[n][i / 2][i % 2] = offset + n * 4 + i;
      }
      label[n] = offset / 4 + n + 1;
    }
    Path file = dir.resolve(name);
    try (WritableHdfFile h5 = HdfFile.write(file)) {
      h5.putDataset("data", data);
      h5.putDataset("label", label);
    }
    return file;
  }

  @Test
  void readsTheDatasetsNamedAfterTheTopsAcrossFiles() throws Exception {
    Path a = write("a.h5", 3, 0);
    Path b = write("b.h5", 2, 12);
    Path list = dir.resolve("list.txt");
    Files.writeString(list, a + "\n" + b + "\n");
    Layer layer = layer("type: 'HDF5Data' top: 'data' top: 'label' hdf5_data_param { source: '" + list + "' batch_size: 4 }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    assertArrayEquals(new int[] {4, 2, 2}, top.get(0).shape());
    assertArrayEquals(new int[] {4}, top.get(1).shape());
    layer.forward(list(), top);
    assertArrayEquals(new float[] {1, 2, 3, 4}, java.util.Arrays.copyOf(top.get(1).data(), 4), "file a, then b");
    assertEquals(13f, top.get(0).data()[13]);
    layer.forward(list(), top);
    assertArrayEquals(new float[] {5, 1, 2, 3}, java.util.Arrays.copyOf(top.get(1).data(), 4), "wraps to file a");
  }

  @Test
  void resumesAtAReadPosition() throws Exception {
    Path a = write("a.h5", 3, 0);
    Path list = dir.resolve("list.txt");
    Files.writeString(list, a + "\n");
    HDF5DataLayer layer = (HDF5DataLayer) layer("type: 'HDF5Data' top: 'data' top: 'label' hdf5_data_param { source: '" + list + "' batch_size: 2 }");
    List<Blob> top = tops(2);
    layer.setUp(list(), top);
    layer.seekReadPosition(5);
    layer.forward(list(), top);
    assertArrayEquals(new float[] {3, 1}, java.util.Arrays.copyOf(top.get(1).data(), 2));
  }

  @Test
  void missingDatasetIsNamed() throws Exception {
    Path a = write("a.h5", 3, 0);
    Path list = dir.resolve("list.txt");
    Files.writeString(list, a + "\n");
    Layer layer = layer("type: 'HDF5Data' top: 'data' top: 'target' hdf5_data_param { source: '" + list + "' batch_size: 2 }");
    DataException e = org.junit.jupiter.api.Assertions.assertThrows(DataException.class, () -> layer.setUp(list(), tops(2)));
    assertTrue(e.getMessage().contains("no dataset 'target'"), e.getMessage());
  }
}
