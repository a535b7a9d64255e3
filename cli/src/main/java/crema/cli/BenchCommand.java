package crema.cli;

import crema.engine.Solver;
import crema.engine.check.ReferenceNets;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema bench}: training throughput of a reference net (seed or wide, from in-memory rows,
 * Caffe's SGD) on the CPU or a GPU, in samples per second: the figure the GPU check compares with
 * PyTorch's for the same nets. Prints one {@code bench …} line.
 */
@Command(name = "bench", description = "Training throughput of a reference net (seed 93-30-9 or wide 93-512-512-9).")
final class BenchCommand implements Callable<Integer> {
  @Option(names = {"-net", "--net"}, defaultValue = "seed", description = "seed or wide.")
  String net;

  @Option(names = {"-batch", "--batch"}, defaultValue = "64", description = "Batch size.")
  int batch;

  @Option(names = {"-iterations", "--iterations"}, defaultValue = "1000", description = "Timed iterations.")
  int iterations;

  @Option(names = {"-gpu", "--gpu"}, defaultValue = "", description = "One GPU id; empty: the CPU.")
  String gpu;

  @Override
  public Integer call() {
    String layers = ReferenceNets.layers(net);
    try (Gpus gpus = Gpus.open(gpu, null).useFirst(); Solver s = ReferenceNets.trainer(layers, batch)) {
      int warmup = Math.max(10, iterations / 20);
      s.step(warmup);
      gpus.synchronize();
      long start = System.nanoTime();
      s.step(iterations);
      gpus.synchronize();
      double seconds = (System.nanoTime() - start) / 1e9;
      String device = gpus.cpu() ? "cpu" : "gpu" + gpu + " (" + gpus.devices().get(0).describe() + ")";
      System.out.println(String.format(Locale.ROOT,
          "bench net=%s batch=%d iterations=%d device=%s seconds=%.3f iterations_per_s=%.1f samples_per_s=%.0f loss=%.4f",
          net, batch, iterations, device, seconds, iterations / seconds, iterations * (double) batch / seconds,
          s.smoothedLoss()));
    }
    return 0;
  }
}
