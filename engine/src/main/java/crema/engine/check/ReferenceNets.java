package crema.engine.check;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.io.Prototxt;
import java.util.Random;

/**
 * The benchmarked nets, shared by the JMH benchmarks and {@code crema bench} (the GPU check): the
 * seed net (93-30-9) and the wide net (93-512-512-9 with dropout 0.5), trained by Caffe's SGD
 * from Input blobs filled once with Otto-like rows (80% zeros, log1p counts), 9 classes.
 */
public final class ReferenceNets {
  private ReferenceNets() {}

  /** The layers of "seed" or "wide". */
  public static String layers(String net) {
    return switch (net) {
      case "seed" -> seedLayers();
      case "wide" -> wideLayers();
      default -> throw new IllegalArgumentException("unknown net '" + net + "' (seed or wide)");
    };
  }

  public static String seedLayers() {
    return ip("ip1", "data", 30) + relu("ip1") + ip("ip2", "ip1", 9);
  }

  public static String wideLayers() {
    return ip("ip1", "data", 512) + relu("ip1") + dropout("ip1")
        + ip("ip2", "ip1", 512) + relu("ip2") + dropout("ip2") + ip("ip3", "ip2", 9);
  }

  public static String lastTop(String layers) {
    return layers.contains("'ip3'") ? "ip3" : "ip2";
  }

  private static String ip(String name, String bottom, int n) {
    return "layer { name: '" + name + "' type: 'InnerProduct' bottom: '" + bottom + "' top: '" + name
        + "' inner_product_param { num_output: " + n + " weight_filler { type: 'xavier' } } }\n";
  }

  private static String relu(String blob) {
    return "layer { name: 'relu_" + blob + "' type: 'ReLU' bottom: '" + blob + "' top: '" + blob + "' }\n";
  }

  private static String dropout(String blob) {
    return "layer { name: 'drop_" + blob + "' type: 'Dropout' bottom: '" + blob + "' top: '" + blob
        + "' dropout_param { dropout_ratio: 0.5 } }\n";
  }

  /** A training net fed by Input layers that the benchmark fills once with random rows. */
  public static Solver trainer(String layers, int batch) {
    String net = "name: 'bench'\n"
        + "layer { name: 'in' type: 'Input' top: 'data' top: 'label' input_param { shape { dim: " + batch
        + " dim: 93 } shape { dim: " + batch + " } } }\n" + layers
        + "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: '" + lastTop(layers) + "' bottom: 'label' top: 'loss' }\n";
    NetParameter np = Prototxt.parseNet(net, "bench");
    SolverParameter sp = Prototxt.parseSolver("base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005"
        + " lr_policy: 'inv' gamma: 0.0001 power: 0.75 max_iter: 1000000000 display: 0 snapshot: 0"
        + " snapshot_after_train: false random_seed: 1 solver_mode: CPU", "bench solver");
    Solver s = Solver.create(sp.toBuilder().setNetParam(np).build());
    Random r = new Random(1);
    Blob data = s.net().blob("data");
    for (int i = 0; i < data.count(); i++) {
      data.data()[i] = r.nextFloat() < 0.8f ? 0 : (float) Math.log1p(r.nextInt(20));
    }
    Blob label = s.net().blob("label");
    for (int i = 0; i < label.count(); i++) {
      label.data()[i] = r.nextInt(9);
    }
    return s;
  }

  /** The deploy form: one Input of (1, 93), a Softmax "prob". */
  public static NetParameter deploy(String layers) {
    return Prototxt.parseNet("name: 'bench'\n"
        + "layer { name: 'in' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 93 } } }\n"
        + layers + "layer { name: 'prob' type: 'Softmax' bottom: '" + lastTop(layers) + "' top: 'prob' }\n", "deploy");
  }
}
