package crema.engine.io;

import caffe.Caffe.BlobProto;
import caffe.Caffe.BlobShape;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Caffe's HDF5 weights, {@code .caffemodel.h5} (Caffe's {@code Net::ToHDF5} and
 * {@code CopyTrainedLayersFromHDF5}): a group {@code /data} with one group per layer, named as the
 * layer, holding the layer's parameter blobs as float datasets {@code "0"}, {@code "1"}, … in the
 * blobs' shapes. Read, the file becomes a NetParameter with one layer per group — name and blobs
 * only, which is all copying weights by layer name needs.
 */
public final class Hdf5Caffemodel {
  /** HDF5's signature, the first 8 bytes of every file. */
  private static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  private Hdf5Caffemodel() {}

  /** Whether {@code file} starts with HDF5's signature (whatever its name). */
  public static boolean isHdf5(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return Arrays.equals(SIGNATURE, in.readNBytes(SIGNATURE.length));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Reads the weights of an HDF5 caffemodel.
   *
   * @throws ProtoFormatException naming the file and what is wrong: no {@code /data} group, a
   *     dataset that is not a blob index, or values that are not floating point
   */
  public static NetParameter read(Path file) {
    if (!Files.exists(file)) {
      throw new ProtoFormatException(file + ": no such file (paths are relative to the working"
          + " directory " + Path.of("").toAbsolutePath() + ")");
    }
    NetParameter.Builder net = NetParameter.newBuilder();
    try (HdfFile hdf = new HdfFile(file)) {
      Node data = hdf.getChildren().get("data");
      if (!(data instanceof Group layers)) {
        throw new ProtoFormatException(file + ": an HDF5 caffemodel holds a group /data of layers;"
            + " this file has " + hdf.getChildren().keySet());
      }
      for (Node node : layers.getChildren().values()) {
        if (!(node instanceof Group layer)) {
          continue;
        }
        // Datasets by blob index: "0", "1", … (HDF5 lists links by name, so "10" would sort before "2").
        Map<Integer, Dataset> blobs = new TreeMap<>();
        for (Node b : layer.getChildren().values()) {
          if (!(b instanceof Dataset d)) {
            continue;
          }
          try {
            blobs.put(Integer.parseInt(d.getName()), d);
          } catch (NumberFormatException e) {
            throw new ProtoFormatException(file + ": /data/" + layer.getName() + "/" + d.getName()
                + " is not a blob index (datasets are named 0, 1, …)");
          }
        }
        LayerParameter.Builder l = LayerParameter.newBuilder().setName(layer.getName());
        for (Map.Entry<Integer, Dataset> e : blobs.entrySet()) {
          if (e.getKey() != l.getBlobsCount()) {
            throw new ProtoFormatException(file + ": /data/" + layer.getName() + " lacks blob " + l.getBlobsCount());
          }
          l.addBlobs(blob(file, layer.getName(), e.getValue()));
        }
        net.addLayer(l);
      }
    } catch (ProtoFormatException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ProtoFormatException(file + ": not a readable HDF5 caffemodel: " + e.getMessage(), e);
    }
    return net.build();
  }

  private static BlobProto blob(Path file, String layer, Dataset d) {
    BlobProto.Builder b = BlobProto.newBuilder();
    BlobShape.Builder s = BlobShape.newBuilder();
    for (int dim : d.getDimensions()) {
      s.addDim(dim);
    }
    b.setShape(s);
    Object flat = d.getDataFlat();
    if (flat instanceof float[] f) {
      for (float v : f) {
        b.addData(v);
      }
    } else if (flat instanceof double[] v) {
      // Caffe's Net<double> writes doubles; a float net takes them rounded, as CopyTrainedLayersFrom does.
      for (double x : v) {
        b.addData((float) x);
      }
    } else {
      throw new ProtoFormatException(file + ": /data/" + layer + "/" + d.getName() + " holds "
          + d.getJavaType().getSimpleName() + " values, not floats");
    }
    return b.build();
  }

  /**
   * Writes the parameter blobs of {@code net} (a caffemodel's NetParameter, as
   * {@code Net.toProto} gives it) as Caffe's {@code Net::ToHDF5} does: a group per layer under
   * {@code /data}, each blob a float dataset in its shape. Through a temporary file and a rename.
   */
  public static void write(NetParameter net, Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      try (WritableHdfFile hdf = HdfFile.write(tmp)) {
        WritableGroup data = hdf.putGroup("data");
        for (LayerParameter layer : net.getLayerList()) {
          WritableGroup g = data.putGroup(layer.getName());
          for (int i = 0; i < layer.getBlobsCount(); i++) {
            g.putDataset(Integer.toString(i), nested(layer.getBlobs(i)));
          }
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      throw new ProtoFormatException(file + ": cannot write: no such folder " + e.getFile(), e);
    } catch (IOException | RuntimeException e) {
      throw new ProtoFormatException(file + ": cannot write HDF5: " + e.getMessage(), e);
    }
  }

  /** The blob's values as a Java array nested to its shape (float[][]… for jHDF). */
  private static Object nested(BlobProto blob) {
    int[] shape = shapeOf(blob);
    float[] flat = new float[blob.getDataCount()];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = blob.getData(i);
    }
    if (shape.length <= 1) {
      return flat;
    }
    Object out = Array.newInstance(float.class, shape);
    fill(out, shape, 0, flat, new int[] {0});
    return out;
  }

  private static void fill(Object array, int[] shape, int axis, float[] flat, int[] next) {
    if (axis == shape.length - 1) {
      float[] row = (float[]) array;
      System.arraycopy(flat, next[0], row, 0, row.length);
      next[0] += row.length;
      return;
    }
    for (int i = 0; i < shape[axis]; i++) {
      fill(Array.get(array, i), shape, axis + 1, flat, next);
    }
  }

  private static int[] shapeOf(BlobProto b) {
    if (b.hasNum() || b.hasChannels() || b.hasHeight() || b.hasWidth()) {
      return new int[] {b.getNum(), b.getChannels(), b.getHeight(), b.getWidth()};
    }
    int[] s = new int[b.getShape().getDimCount()];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.toIntExact(b.getShape().getDim(i));
    }
    return s;
  }
}
