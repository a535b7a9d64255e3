package crema.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code crema device_query}: what Caffe prints per GPU. This build has no GPU backend yet. */
@Command(name = "device_query", description = "Show the properties of the listed GPUs.")
final class DeviceQueryCommand implements Callable<Integer> {
  @Option(names = {"-gpu", "--gpu"}, defaultValue = "", description = "GPU device ids, comma-separated, or 'all'.")
  String gpu;

  @Override
  public Integer call() {
    if (gpu.isEmpty()) {
      // As in Caffe: without -gpu there is nothing to query.
      return 0;
    }
    Flags.requireCpu(gpu);
    return 0;
  }
}
