package crema.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.V1LayerParameter;
import crema.engine.Blob;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model-zoo weight formats besides V2: V1 caffemodels ({@code layers}, legacy 4-D blob dims)
 * and HDF5 caffemodels ({@code .caffemodel.h5}). Crema writes both from Caffe's own V2 LeNet
 * weights (fixtures/vision-mini/lenet/init.caffemodel); read back, every blob equals the V2 one.
 */
class CaffemodelFormatsTest {
  private static final Path V2 = Path.of("..", "fixtures", "vision-mini", "lenet", "init.caffemodel");
  private static final Map<String, V1LayerParameter.LayerType> V1_TYPES = Map.of(
      "Data", V1LayerParameter.LayerType.DATA,
      "Convolution", V1LayerParameter.LayerType.CONVOLUTION,
      "Pooling", V1LayerParameter.LayerType.POOLING,
      "InnerProduct", V1LayerParameter.LayerType.INNER_PRODUCT,
      "ReLU", V1LayerParameter.LayerType.RELU,
      "Accuracy", V1LayerParameter.LayerType.ACCURACY,
      "SoftmaxWithLoss", V1LayerParameter.LayerType.SOFTMAX_LOSS);

  @TempDir
  Path tmp;

  /** A V2 blob as Caffe before 2015 wrote it: num, channels, height, width, right-aligned. */
  private static BlobProto legacy(BlobProto b) {
    int[] s = Blob.shapeOf(b);
    int[] d = {1, 1, 1, 1};
    for (int i = 0; i < s.length; i++) {
      d[4 - s.length + i] = s[i];
    }
    return b.toBuilder().clearShape().setNum(d[0]).setChannels(d[1]).setHeight(d[2]).setWidth(d[3]).build();
  }

  private static NetParameter toV1(NetParameter v2) {
    NetParameter.Builder out = NetParameter.newBuilder().setName(v2.getName());
    for (LayerParameter l : v2.getLayerList()) {
      V1LayerParameter.Builder v1 = V1LayerParameter.newBuilder().setName(l.getName())
          .setType(V1_TYPES.get(l.getType())).addAllBottom(l.getBottomList()).addAllTop(l.getTopList());
      if (l.hasConvolutionParam()) {
        v1.setConvolutionParam(l.getConvolutionParam());
      }
      if (l.hasInnerProductParam()) {
        v1.setInnerProductParam(l.getInnerProductParam());
      }
      for (BlobProto b : l.getBlobsList()) {
        v1.addBlobs(legacy(b));
      }
      out.addLayers(v1);
    }
    return out.build();
  }

  private static void assertSameWeights(NetParameter expected, NetParameter actual) {
    int compared = 0;
    for (LayerParameter e : expected.getLayerList()) {
      if (e.getBlobsCount() == 0) {
        continue;
      }
      LayerParameter a = actual.getLayerList().stream().filter(l -> l.getName().equals(e.getName()))
          .findFirst().orElseThrow(() -> new AssertionError("layer " + e.getName() + " missing"));
      assertEquals(e.getBlobsCount(), a.getBlobsCount(), e.getName());
      for (int i = 0; i < e.getBlobsCount(); i++) {
        Blob want = new Blob(Blob.shapeOf(e.getBlobs(i)));
        want.fromProto(e.getBlobs(i), false);
        Blob got = new Blob(Blob.shapeOf(e.getBlobs(i)));
        assertTrue(got.accepts(a.getBlobs(i)), e.getName() + " blob " + i + " shape");
        got.fromProto(a.getBlobs(i), false);
        assertArrayEquals(want.data(), got.data(), e.getName() + " blob " + i);
        compared++;
      }
    }
    assertEquals(8, compared, "LeNet's conv1, conv2, ip1, ip2 weights and biases");
  }

  @Test
  void v1CaffemodelLoadsAsItsV2() {
    NetParameter v2 = BinaryProto.readNet(V2);
    Path v1 = tmp.resolve("lenet_v1.caffemodel");
    BinaryProto.write(toV1(v2), v1);
    NetParameter read = BinaryProto.readNet(v1);
    assertEquals(0, read.getLayersCount(), "upgraded to V2 layers");
    assertSameWeights(v2, read);
  }

  @Test
  void hdf5CaffemodelLoadsAsItsV2() {
    NetParameter v2 = BinaryProto.readNet(V2);
    Path h5 = tmp.resolve("lenet.caffemodel.h5");
    Hdf5Caffemodel.write(v2, h5);
    assertTrue(Hdf5Caffemodel.isHdf5(h5));
    assertFalse(Hdf5Caffemodel.isHdf5(V2), "a protobuf caffemodel is not HDF5");
    NetParameter read = BinaryProto.readNet(h5);
    assertSameWeights(v2, read);
    LayerParameter conv1 = read.getLayerList().stream().filter(l -> l.getName().equals("conv1")).findFirst()
        .orElseThrow();
    assertArrayEquals(new int[] {20, 1, 5, 5}, Blob.shapeOf(conv1.getBlobs(0)), "datasets keep the blob shape");
  }

  @Test
  void hdf5WithoutTheDataGroupSaysWhatItHolds() {
    Path h5 = tmp.resolve("other.h5");
    try (WritableHdfFile f = HdfFile.write(h5)) {
      f.putGroup("weights").putDataset("0", new float[] {1, 2});
    }
    ProtoFormatException e = assertThrows(ProtoFormatException.class, () -> BinaryProto.readNet(h5));
    assertTrue(e.getMessage().contains("/data") && e.getMessage().contains("weights"), e.getMessage());
  }
}
