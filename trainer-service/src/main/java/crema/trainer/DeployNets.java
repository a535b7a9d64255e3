package crema.trainer;

import caffe.Caffe.BlobShape;
import caffe.Caffe.InputParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.Net;
import java.util.Set;

/**
 * Derives a deploy net from a train/test net when a job gives none: data layers become one Input
 * layer shaped like one example, loss layers become a Softmax named "prob", and layers that only
 * score (Accuracy) or are TRAIN-only disappear.
 */
final class DeployNets {
  private static final Set<String> DATA = Set.of("Data", "HDF5Data", "MemoryData", "DummyData", "Input");
  private static final Set<String> LOSS = Set.of("SoftmaxWithLoss", "SigmoidCrossEntropyLoss", "EuclideanLoss",
      "HingeLoss", "MultinomialLogisticLoss");

  private DeployNets() {}

  static NetParameter derive(NetParameter train, Net built) {
    NetParameter.Builder out = NetParameter.newBuilder().setName(train.getName());
    boolean inputDone = false;
    for (LayerParameter l : train.getLayerList()) {
      // The first data layer, TRAIN-only or not, becomes the Input; other TRAIN-only layers go.
      if (!DATA.contains(l.getType()) && onlyFor(l, Phase.TRAIN)) {
        continue;
      }
      if (DATA.contains(l.getType())) {
        if (inputDone) {
          continue;
        }
        Blob data = built.blob(l.getTop(0));
        BlobShape.Builder shape = BlobShape.newBuilder().addDim(1);
        for (int i = 1; i < data.numAxes(); i++) {
          shape.addDim(data.shape(i));
        }
        out.addLayer(LayerParameter.newBuilder().setName("input").setType("Input").addTop(l.getTop(0))
            .setInputParam(InputParameter.newBuilder().addShape(shape)));
        inputDone = true;
      } else if (LOSS.contains(l.getType())) {
        out.addLayer(LayerParameter.newBuilder().setName("prob").setType("Softmax").addBottom(l.getBottom(0))
            .addTop("prob"));
      } else if (!l.getType().equals("Accuracy")) {
        out.addLayer(l.toBuilder().clearInclude().clearExclude());
      }
    }
    return out.build();
  }

  private static boolean onlyFor(LayerParameter l, Phase phase) {
    return l.getIncludeCount() > 0 && l.getIncludeList().stream().allMatch(r -> r.hasPhase() && r.getPhase() == phase);
  }
}
