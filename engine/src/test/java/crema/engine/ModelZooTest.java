package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.draw.NetDiagram;
import crema.engine.io.Prototxt;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The model-zoo deploy nets in examples/model-zoo build, run forward at batch 1 with filler weights
 * to a probability distribution over their classes, and draw with a node per layer.
 */
class ModelZooTest {
  @ParameterizedTest
  @CsvSource({
      "squeezenet_v1.1_deploy.prototxt, prob, 1000",
      "bvlc_googlenet_deploy.prototxt, prob, 1000",
      "resnet50_deploy.prototxt, prob, 1000",
      "bvlc_alexnet_deploy.prototxt, prob, 1000",
      "bvlc_reference_caffenet_deploy.prototxt, prob, 1000"})
  void deployNetBuildsRunsAndDraws(String file, String output, int classes) {
    NetParameter p = Prototxt.readNet(Path.of("..", "examples", "model-zoo", file));
    try (Net net = new Net(p, Net.state(p, Phase.TEST, 0, List.of()))) {
      Blob data = net.blob("data");
      int[] shape = data.shape().clone();
      shape[0] = 1;
      data.reshape(shape);
      net.reshape();
      Rng rng = new Rng(7);
      float[] x = data.data();
      for (int i = 0; i < data.count(); i++) {
        x[i] = rng.gaussian(0f, 1f);
      }
      // Filler weights: the deploy files carry no fillers (constant 0), so give every parameter a
      // small gaussian, as trained weights would be, for the activations to be non-trivial.
      for (Layer layer : net.layers()) {
        if (layer.type().equals("BatchNorm")) {
          // Its blobs are statistics, not weights: mean 0, variance 1, scale factor 1.
          Arrays.fill(layer.blobs().get(0).data(), 0f);
          Arrays.fill(layer.blobs().get(1).data(), 1f);
          Arrays.fill(layer.blobs().get(2).data(), 1f);
          continue;
        }
        for (Blob b : layer.blobs()) {
          float[] w = b.data();
          for (int i = 0; i < b.count(); i++) {
            w[i] = rng.gaussian(0f, 0.01f);
          }
        }
      }
      net.forward();
      Blob prob = net.blob(output);
      assertEquals(classes, prob.count(), file + ": " + output + " " + prob.shapeString());
      double sum = 0;
      for (int i = 0; i < prob.count(); i++) {
        assertTrue(Float.isFinite(prob.data()[i]), file + ": finite probabilities");
        sum += prob.data()[i];
      }
      assertEquals(1.0, sum, 1e-4, file + ": a distribution");
      String dot = NetDiagram.dot(p, "LR", Phase.TEST);
      // draw_net draws the prototxt's layers (the Split layers Caffe inserts are not in it).
      for (LayerParameter layer : p.getLayerList()) {
        assertTrue(dot.contains(layer.getName()), file + ": " + layer.getName() + " drawn");
      }
    }
  }
}
