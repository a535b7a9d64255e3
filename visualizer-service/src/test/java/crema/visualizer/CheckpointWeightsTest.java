package crema.visualizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import com.google.protobuf.ByteString;
import crema.engine.OttoFixture;
import crema.proto.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointWeightsTest {
  @TempDir
  Path tmp;

  /** Caffe's own caffemodel (fixtures/otto-mini): ip1 is 30 × 93, drawn cell for cell. */
  @Test
  void caffesIp1IsA30By93HeatmapOfItsValues() throws Exception {
    Path root = OttoFixture.copyTo(tmp);
    byte[] bytes = Files.readAllBytes(root.resolve("exact/init.caffemodel"));
    NetParameter model = NetParameter.parseFrom(bytes);
    var w = CheckpointWeights.of("r", Checkpoint.newBuilder().setModel("otto").setIteration(7)
        .setCaffemodel(ByteString.copyFrom(bytes)).build(), 65_536);
    assertEquals(7, w.iteration());
    var ip1 = w.layers().stream().filter(l -> l.name().equals("ip1")).findFirst().orElseThrow();
    assertEquals("InnerProduct", ip1.type());
    var weights = ip1.params().get(0);
    assertEquals("weights", weights.role());
    assertArrayEquals(new int[] {30, 93}, weights.shape());
    assertEquals(30, weights.heatmap().rows());
    assertEquals(93, weights.heatmap().cols());
    assertFalse(weights.heatmap().averaged());
    LayerParameter caffe = model.getLayerList().stream().filter(l -> l.getName().equals("ip1")).findFirst().orElseThrow();
    for (int i = 0; i < 30 * 93; i++) {
      assertEquals(caffe.getBlobs(0).getData(i), weights.heatmap().values()[i], 0, "cell " + i);
    }
    assertEquals(2790, LongStream.of(weights.histogram().counts()).sum(), "every weight in a bin");
    var bias = ip1.params().get(1);
    assertEquals("bias", bias.role());
    assertNull(bias.heatmap(), "a vector has no heatmap");
    assertEquals(30, LongStream.of(bias.histogram().counts()).sum());
  }

  @Test
  void aLargeMatrixIsAveragedInBlocks() {
    float[] v = new float[16];
    for (int i = 0; i < 16; i++) {
      v[i] = i;
    }
    var m = CheckpointWeights.heatmap(v, 4, 4, 4);
    assertTrue(m.averaged());
    assertEquals(2, m.rows());
    assertEquals(2, m.cols());
    // Blocks {0,1,4,5} {2,3,6,7} {8,9,12,13} {10,11,14,15}.
    assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, m.values());
    assertEquals(2.5, m.min());
    assertEquals(12.5, m.max());
  }

  @Test
  void histogramBinsByHandAndAConstantBlobGetsOneBin() {
    float[] v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20};
    var h = CheckpointWeights.histogram(v, v.length);
    assertEquals(0, h.edges()[0]);
    assertEquals(20, h.edges()[20]);
    for (int b = 0; b < 11; b++) {
      assertEquals(1, h.counts()[b], "bin [" + b + ", " + (b + 1) + ")");
    }
    assertEquals(0, h.counts()[11]);
    assertEquals(1, h.counts()[19], "the maximum is in the last bin");
    var constant = CheckpointWeights.histogram(new float[] {0.5f, 0.5f}, 2);
    assertEquals(2, LongStream.of(constant.counts()).sum());
    assertTrue(constant.edges()[0] < 0.5 && constant.edges()[20] > 0.5);
  }

  /** Caffe's vis_square: 3 filters of 1 channel, 2 × 2, in a 2 × 2 grid with 1 pixel of padding at 1. */
  @Test
  void filtersTileLikeVisSquare() {
    float[] v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    var t = CheckpointWeights.tiles(v, new int[] {3, 1, 2, 2});
    assertEquals(5, t.rows());
    assertEquals(5, t.cols());
    float[] expect = {
        0, 1 / 11f, 1, 4 / 11f, 5 / 11f,
        2 / 11f, 3 / 11f, 1, 6 / 11f, 7 / 11f,
        1, 1, 1, 1, 1,
        8 / 11f, 9 / 11f, 1, 1, 1,
        10 / 11f, 1, 1, 1, 1};
    assertArrayEquals(expect, t.values(), 1e-6f);
  }

  @Test
  void batchNormBlobsAreNamedForWhatTheyHold() {
    BlobProto mean = BlobProto.newBuilder().setShape(caffe.Caffe.BlobShape.newBuilder().addDim(2)).addData(1).addData(2).build();
    NetParameter net = NetParameter.newBuilder().addLayer(LayerParameter.newBuilder().setName("bn").setType("BatchNorm")
        .addBlobs(mean).addBlobs(mean).addBlobs(BlobProto.newBuilder().setShape(caffe.Caffe.BlobShape.newBuilder()
            .addDim(1)).addData(1))).build();
    var w = CheckpointWeights.of("r", Checkpoint.newBuilder().setCaffemodel(net.toByteString()).build(), 100);
    assertEquals(java.util.List.of("mean", "variance", "scale factor"),
        w.layers().get(0).params().stream().map(CheckpointWeights.Param::role).toList());
  }
}
