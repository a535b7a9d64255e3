package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Forward and one Backward through Caffe's vision layers (convolution with groups, dilation and
 * per-axis settings, deconvolution, max/average/global pooling with Caffe's ceil rounding, both
 * LRNs, SPP, Crop, Im2col, Flatten, Concat, InnerProduct, EuclideanLoss), against every blob's data
 * and diff and every parameter's gradient that the real Caffe 1.0 dumped from the same net, weights
 * and inputs (fixtures/vision-mini/layers). Element-wise, |crema − caffe| / max(|caffe|, 1e-3) ≤
 * 1e-5.
 */
class VisionFixtureNetTest {
  private static final double TOLERANCE = 1e-5;

  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void copyFixture() {
    root = OttoFixture.copyTo(tmp, "vision-mini/layers", "layers_net.prototxt");
  }

  static float[] floats(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  static double worst(float[] caffe, float[] crema, int n, String what) {
    assertEquals(caffe.length, n, what + ": size");
    double worst = 0;
    for (int i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(crema[i] - caffe[i]) / Math.max(Math.abs(caffe[i]), 1e-3));
    }
    return worst;
  }

  @Test
  void everyBlobAndGradientMatchesCaffe() throws IOException {
    NetParameter p = Prototxt.readNet(root.resolve("layers_net.prototxt"));
    List<String> failures = new ArrayList<>();
    double overall = 0;
    try (Net net = new Net(p, Net.state(p, Phase.TRAIN, 0, List.of()))) {
      net.copyTrainedLayersFrom(BinaryProto.readNet(root.resolve("layers_init.caffemodel")));
      float[] data = floats(root.resolve("input.bin"));
      float[] target = floats(root.resolve("target.bin"));
      System.arraycopy(data, 0, net.blob("data").data(), 0, data.length);
      System.arraycopy(target, 0, net.blob("target").data(), 0, target.length);
      net.clearParamDiffs();
      double loss = net.forward();
      net.backward();
      // loss.txt: "total_loss 52.1087761" first.
      double caffeLoss = Double.parseDouble(Files.readAllLines(root.resolve("dump/loss.txt")).get(0).split(" ")[1]);
      assertEquals(caffeLoss, loss, TOLERANCE * Math.abs(caffeLoss), "loss");
      int blobs = 0;
      for (String line : Files.readAllLines(root.resolve("dump/shapes.txt"))) {
        String[] f = line.split(" ");
        if (line.startsWith("#") || f.length < 3 || !f[1].equals("blob")) {
          continue;
        }
        Blob b = net.blob(f[0]);
        assertNotNull(b, "blob " + f[0] + " (Caffe's name, split copies included)");
        assertEquals(f[2], shape(b), "shape of " + f[0]);
        for (String kind : List.of("data", "diff")) {
          float[] mine = kind.equals("data") ? b.data() : b.diff();
          double w = worst(floats(root.resolve("dump/blobs/" + f[0] + "." + kind + ".bin")), mine, b.count(),
              f[0] + " " + kind);
          overall = Math.max(overall, w);
          if (w > TOLERANCE) {
            failures.add(f[0] + " " + kind + " " + w);
          }
        }
        blobs++;
      }
      int params = 0;
      for (Layer layer : net.layers()) {
        for (int i = 0; i < layer.blobs().size(); i++) {
          Path file = root.resolve("dump/params/" + layer.name() + "." + i + ".diff.bin");
          double w = worst(floats(file), layer.blobs().get(i).diff(), layer.blobs().get(i).count(),
              layer.name() + " param " + i);
          overall = Math.max(overall, w);
          if (w > TOLERANCE) {
            failures.add(layer.name() + " param " + i + " diff " + w);
          }
          params++;
        }
      }
      assertTrue(blobs > 40 && params >= 8, blobs + " blobs, " + params + " params compared");
    }
    assertTrue(failures.isEmpty(), "beyond " + TOLERANCE + ": " + failures + " (worst overall " + overall + ")");
  }

  /** As shapes.txt writes them: 2x3x11x11, or "scalar" for a blob of no axes. */
  private static String shape(Blob b) {
    if (b.numAxes() == 0) {
      return "scalar";
    }
    StringBuilder s = new StringBuilder();
    for (int d : b.shape()) {
      s.append(s.length() == 0 ? "" : "x").append(d);
    }
    return s.toString();
  }
}
