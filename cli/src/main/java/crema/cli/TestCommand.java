package crema.cli;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Blob;
import crema.engine.LogNumber;
import crema.engine.Net;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code crema test}: score a model, as {@code caffe test}. */
@Command(name = "test", description = "Score a model over -iterations batches of its TEST net.")
final class TestCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(TestCommand.class.getName());

  @Option(names = {"-weights", "--weights"}, required = true, description = "The trained .caffemodel.")
  String weights;

  @Option(names = {"-iterations", "--iterations"}, defaultValue = "50", description = "The number of iterations to run.")
  int iterations;

  @picocli.CommandLine.Mixin
  NetFlags flags;

  @Override
  public Integer call() {
    NetParameter param = Prototxt.readNet(Path.of(flags.model));
    try (Gpus gpus = Gpus.open(flags.gpu, null).useFirst(); Net net = new Net(param, Net.state(param, Phase.TEST, flags.level, Flags.commaList(flags.stage)))) {
      net.copyTrainedLayersFrom(BinaryProto.readNet(Path.of(weights)));
      LOG.log(Level.INFO, "Running for " + iterations + " iterations.");
      List<Float> scores = new ArrayList<>();
      List<String> names = new ArrayList<>();
      float loss = 0;
      for (int i = 0; i < iterations; i++) {
        float iterLoss = (float) net.forward();
        loss += iterLoss;
        int idx = 0;
        for (String name : net.outputNames()) {
          Blob b = net.blob(name);
          for (int k = 0; k < b.count(); k++, idx++) {
            float score = b.data()[k];
            if (i == 0) {
              scores.add(score);
              names.add(name);
            } else {
              scores.set(idx, scores.get(idx) + score);
            }
            LOG.log(Level.INFO, "Batch " + i + ", " + name + " = " + LogNumber.format(score));
          }
        }
      }
      loss /= iterations;
      LOG.log(Level.INFO, "Loss: " + LogNumber.format(loss));
      for (int i = 0; i < scores.size(); i++) {
        float mean = scores.get(i) / iterations;
        float w = net.outputLossWeight(names.get(i));
        String lossMsg = w != 0 ? " (* " + LogNumber.format(w) + " = " + LogNumber.format(w * mean) + " loss)" : "";
        LOG.log(Level.INFO, names.get(i) + " = " + LogNumber.format(mean) + lossMsg);
      }
    }
    return 0;
  }
}
