package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Net;
import crema.engine.io.Prototxt;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeployNetsTest {
  @Test
  void trainOnlyDataLayerBecomesTheInputAndTheLossASoftmax() {
    NetParameter train = Prototxt.parseNet("""
        name: "n"
        layer { name: "data" type: "DummyData" top: "data" top: "label" include { phase: TRAIN }
          dummy_data_param { shape { dim: 8 dim: 5 } shape { dim: 8 } } }
        layer { name: "data" type: "DummyData" top: "data" top: "label" include { phase: TEST }
          dummy_data_param { shape { dim: 4 dim: 5 } shape { dim: 4 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
        layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "label" top: "acc" include { phase: TEST } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """, "train");
    Net built = new Net(train, Net.state(train, Phase.TRAIN, 0, List.of()));
    NetParameter deploy = DeployNets.derive(train, built);
    assertEquals(List.of("input", "ip", "prob"), deploy.getLayerList().stream().map(l -> l.getName()).toList());
    assertEquals(List.of(1L, 5L), deploy.getLayer(0).getInputParam().getShape(0).getDimList());
    Net d = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()));
    assertEquals(List.of("prob"), d.outputNames());
  }
}
