package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.io.Prototxt;
import java.util.List;
import org.junit.jupiter.api.Test;

class NetTest {
  private static final String SMALL = """
      name: "small"
      layer { name: "data" type: "DummyData" top: "data" top: "label"
        dummy_data_param { shape { dim: 4 dim: 5 } shape { dim: 4 }
          data_filler { type: "gaussian" } data_filler { type: "constant" value: 1 } } }
      layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
        inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.1 } } }
      layer { name: "relu" type: "ReLU" bottom: "ip1" top: "ip1" }
      layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        param { lr_mult: 2 decay_mult: 0 } param { lr_mult: 0 }
        inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.1 } } }
      layer { name: "acc" type: "Accuracy" bottom: "ip2" bottom: "label" top: "acc" include { phase: TEST } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
      """;

  private static Net build(String text, Phase phase, int level, List<String> stages) {
    NetParameter p = Prototxt.parseNet(text, "test.prototxt");
    return new Net(p, Net.state(p, phase, level, stages));
  }

  @Test
  void phaseFiltersLayersAndSplitsAreNamedAsCaffeNamesThem() {
    Net train = build(SMALL, Phase.TRAIN, 0, List.of());
    assertEquals(null, train.layer("acc"));
    assertEquals(null, train.layer("ip2_ip2_0_split"));
    Net test = build(SMALL, Phase.TEST, 0, List.of());
    assertNotNull(test.layer("acc"));
    assertNotNull(test.layer("ip2_ip2_0_split"));
    assertNotNull(test.layer("label_data_1_split"));
    assertTrue(test.hasBlob("label_data_1_split_0") && test.hasBlob("label_data_1_split_1"));
    assertEquals(List.of("acc", "loss"), test.outputNames());
  }

  @Test
  void inPlaceLayersShareTheirBlob() {
    Net net = build(SMALL, Phase.TRAIN, 0, List.of());
    int relu = net.layers().indexOf(net.layer("relu"));
    assertSame(net.bottomsOf(relu).get(0), net.topsOf(relu).get(0));
  }

  @Test
  void levelsAndStagesSelectLayers() {
    String text = """
        layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } }
        layer { name: "lvl" type: "AbsVal" bottom: "x" top: "a" include { min_level: 2 } }
        layer { name: "stg" type: "AbsVal" bottom: "x" top: "b" include { stage: "deploy" } }
        layer { name: "not" type: "AbsVal" bottom: "x" top: "c" exclude { stage: "deploy" } }
        """;
    Net low = build(text, Phase.TEST, 1, List.of());
    assertEquals(null, low.layer("lvl"));
    assertEquals(null, low.layer("stg"));
    assertNotNull(low.layer("not"));
    Net high = build(text, Phase.TEST, 2, List.of("deploy"));
    assertNotNull(high.layer("lvl"));
    assertNotNull(high.layer("stg"));
    assertEquals(null, high.layer("not"));
  }

  @Test
  void includeAndExcludeTogetherAreRefused() {
    var e = assertThrows(NetException.class, () -> build("""
        layer { name: "in" type: "Input" top: "x" include { phase: TEST } exclude { phase: TRAIN }
          input_param { shape { dim: 1 } } }
        """, Phase.TEST, 0, List.of()));
    assertTrue(e.getMessage().contains("'in'") && e.getMessage().contains("not both"), e.getMessage());
  }

  @Test
  void multipliersAndTheBackwardPlan() {
    Net net = build(SMALL, Phase.TRAIN, 0, List.of());
    assertEquals(4, net.learnableParams().size());
    assertEquals(2f, net.lrMult(2));
    assertEquals(0f, net.decayMult(2));
    assertEquals(0f, net.lrMult(3));
    int data = net.layers().indexOf(net.layer("data"));
    int ip1 = net.layers().indexOf(net.layer("ip1"));
    assertFalse(net.layerNeedsBackward(data), "data layers need no backward");
    assertTrue(net.layerNeedsBackward(ip1));
    assertFalse(net.bottomNeedsBackward(ip1)[0], "no gradient into the data");
    int loss = net.layers().indexOf(net.layer("loss"));
    assertFalse(net.bottomNeedsBackward(loss)[1], "no gradient into the labels");
  }

  @Test
  void forceBackwardReachesTheData() {
    Net net = build("force_backward: true\n" + SMALL, Phase.TRAIN, 0, List.of());
    int ip1 = net.layers().indexOf(net.layer("ip1"));
    assertTrue(net.bottomNeedsBackward(ip1)[0]);
    int loss = net.layers().indexOf(net.layer("loss"));
    assertFalse(net.bottomNeedsBackward(loss)[1], "labels still refuse a forced gradient");
  }

  @Test
  void propagateDownFalseStopsTheGradient() {
    String text = SMALL.replace("bottom: \"ip1\" top: \"ip2\"", "bottom: \"ip1\" top: \"ip2\" propagate_down: false");
    Net net = build(text, Phase.TRAIN, 0, List.of());
    int ip2 = net.layers().indexOf(net.layer("ip2"));
    assertFalse(net.bottomNeedsBackward(ip2)[0]);
    assertFalse(net.layerNeedsBackward(net.layers().indexOf(net.layer("relu"))),
        "nothing below ip2 receives a gradient");
  }

  @Test
  void lossWeightScalesTheGradient() {
    // Same seed, same layers: the DummyData draws the same batch for both nets.
    NetParameter p1 = Prototxt.parseNet(SMALL, "one.prototxt");
    NetParameter p2 = Prototxt.parseNet(SMALL.replace("top: \"loss\" }", "top: \"loss\" loss_weight: 2 }"), "two.prototxt");
    Net one = new Net(p1, Net.state(p1, Phase.TRAIN, 0, List.of()), new Rng(5));
    Net two = new Net(p2, Net.state(p2, Phase.TRAIN, 0, List.of()), new Rng(5));
    two.copyTrainedLayersFrom(one.toProto(false));
    double l1 = one.forwardBackward();
    double l2 = two.forwardBackward();
    assertEquals(2 * l1, l2, 1e-5);
    float[] g1 = one.learnableParams().get(0).diff();
    float[] g2 = two.learnableParams().get(0).diff();
    for (int i = 0; i < one.learnableParams().get(0).count(); i++) {
      assertEquals(2 * g1[i], g2[i], 1e-5);
    }
  }

  @Test
  void namedParamsAreSharedAndAccumulate() {
    String text = """
        layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
        layer { name: "a" type: "InnerProduct" bottom: "x" top: "ya" param { name: "w" } param { name: "b" }
          inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
        layer { name: "b" type: "InnerProduct" bottom: "x" top: "yb" param { name: "w" } param { name: "b" }
          inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
        layer { name: "sum" type: "Eltwise" bottom: "ya" bottom: "yb" top: "s" }
        layer { name: "r" type: "Reduction" bottom: "s" top: "loss" loss_weight: 1 }
        """;
    Net net = build(text, Phase.TRAIN, 0, List.of());
    assertEquals(2, net.learnableParams().size());
    assertSame(net.layer("a").blobs().get(0), net.layer("b").blobs().get(0));
    var e = assertThrows(NetException.class, () -> build(text.replace(
        "bottom: \"x\" top: \"yb\" param { name: \"w\" }", "bottom: \"x\" top: \"yb\" param { name: \"w\" lr_mult: 3 }"),
        Phase.TRAIN, 0, List.of()));
    assertTrue(e.getMessage().contains("Shared param 'w' has mismatched lr_mult"), e.getMessage());
  }

  @Test
  void copyingWeightsIgnoresUnknownLayersAndChecksShapes() {
    Net a = build(SMALL, Phase.TRAIN, 0, List.of());
    NetParameter saved = a.toProto(false);
    NetParameter renamed = saved.toBuilder().setLayer(1, saved.getLayer(1).toBuilder().setName("ip1_old")).build();
    Net b = build(SMALL, Phase.TRAIN, 0, List.of());
    float before = b.layer("ip1").blobs().get(0).data()[0];
    b.copyTrainedLayersFrom(renamed);
    assertEquals(before, b.layer("ip1").blobs().get(0).data()[0], "ip1_old is ignored; ip1 keeps its filler");
    assertEquals(a.layer("ip2").blobs().get(0).data()[4], b.layer("ip2").blobs().get(0).data()[4]);
    Net wide = build(SMALL.replace("dim: 4 dim: 5", "dim: 4 dim: 6"), Phase.TRAIN, 0, List.of());
    var e = assertThrows(NetException.class, () -> wide.copyTrainedLayersFrom(saved));
    assertTrue(e.getMessage().contains("ip1") && e.getMessage().contains("3 5 (15)")
        && e.getMessage().contains("3 6 (18)"), e.getMessage());
  }

  @Test
  void topProducedTwiceIsRefused() {
    var e = assertThrows(NetException.class, () -> build("""
        layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } }
        layer { name: "a" type: "AbsVal" bottom: "x" top: "y" }
        layer { name: "b" type: "AbsVal" bottom: "x" top: "y" }
        """, Phase.TEST, 0, List.of()));
    assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("multiple sources"), e.getMessage());
  }
}
