package crema.cli;

import caffe.Caffe.NetParameter;
import crema.engine.LogNumber;
import crema.engine.Net;
import crema.engine.io.Prototxt;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code crema time}: benchmark a model's forward and backward passes, per layer, as {@code caffe time}. */
@Command(name = "time", description = "Benchmark the execution time of a model, layer by layer.")
final class TimeCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(TimeCommand.class.getName());

  @Option(names = {"-iterations", "--iterations"}, defaultValue = "50", description = "The number of iterations to run.")
  int iterations;

  @Option(names = {"-phase", "--phase"}, defaultValue = "", description = "TRAIN (default) or TEST.")
  String phase;

  @picocli.CommandLine.Mixin
  NetFlags flags;

  @Override
  public Integer call() {
    NetParameter param = Prototxt.readNet(Path.of(flags.model));
    try (Gpus gpus = Gpus.open(flags.gpu, null).useFirst(); Net net = new Net(param, Net.state(param, Flags.phase(phase), flags.level, Flags.commaList(flags.stage)))) {
      LOG.log(Level.INFO, "Performing Forward");
      double initialLoss = net.forward();
      LOG.log(Level.INFO, "Initial loss: " + LogNumber.format(initialLoss));
      LOG.log(Level.INFO, "Performing Backward");
      net.backward();
      int n = net.layers().size();
      long[] forward = new long[n];
      long[] backward = new long[n];
      long forwardTotal = 0;
      long backwardTotal = 0;
      LOG.log(Level.INFO, "*** Benchmark begins ***");
      LOG.log(Level.INFO, "Testing for " + iterations + " iterations.");
      long totalStart = System.nanoTime();
      for (int j = 0; j < iterations; j++) {
        long iterStart = System.nanoTime();
        long passStart = iterStart;
        for (int i = 0; i < n; i++) {
          long t = System.nanoTime();
          net.forwardLayer(i);
          gpus.synchronize();
          forward[i] += System.nanoTime() - t;
        }
        forwardTotal += System.nanoTime() - passStart;
        passStart = System.nanoTime();
        for (int i = n - 1; i >= 0; i--) {
          long t = System.nanoTime();
          net.backwardLayer(i);
          gpus.synchronize();
          backward[i] += System.nanoTime() - t;
        }
        backwardTotal += System.nanoTime() - passStart;
        LOG.log(Level.INFO, "Iteration: " + (j + 1) + " forward-backward time: "
            + LogNumber.format((System.nanoTime() - iterStart) / 1e6) + " ms.");
      }
      long total = System.nanoTime() - totalStart;
      LOG.log(Level.INFO, "Average time per layer: ");
      for (int i = 0; i < n; i++) {
        String name = String.format("%10s", net.layers().get(i).name());
        LOG.log(Level.INFO, name + "\tforward: " + LogNumber.format(forward[i] / 1e6 / iterations) + " ms.");
        LOG.log(Level.INFO, name + "\tbackward: " + LogNumber.format(backward[i] / 1e6 / iterations) + " ms.");
      }
      LOG.log(Level.INFO, "Average Forward pass: " + LogNumber.format(forwardTotal / 1e6 / iterations) + " ms.");
      LOG.log(Level.INFO, "Average Backward pass: " + LogNumber.format(backwardTotal / 1e6 / iterations) + " ms.");
      LOG.log(Level.INFO, "Average Forward-Backward: " + LogNumber.format(total / 1e6 / iterations) + " ms.");
      LOG.log(Level.INFO, "Total Time: " + LogNumber.format(total / 1e6) + " ms.");
      LOG.log(Level.INFO, "*** Benchmark ends ***");
    }
    return 0;
  }
}
