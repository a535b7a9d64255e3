package crema.cli;

import crema.gpu.CudaDevices;
import crema.gpu.GpuSelection;
import java.lang.System.Logger.Level;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema device_query}: what Caffe prints per GPU, plus what a shared machine needs checked
 * before training: memory used and free, and current utilisation.
 */
@Command(name = "device_query", description = "Show the properties of the listed GPUs.")
final class DeviceQueryCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger("crema.cli.DeviceQuery");

  @Option(names = {"-gpu", "--gpu"}, defaultValue = "", description = "GPU device ids, comma-separated, or 'all'.")
  String gpu;

  @Override
  public Integer call() {
    if (gpu.isEmpty()) {
      // As in Caffe: without -gpu there is nothing to query.
      return 0;
    }
    CudaDevices found = CudaDevices.probe();
    if (found.devices().isEmpty()) {
      throw new IllegalArgumentException("-gpu " + gpu + " was requested, but " + found.problem());
    }
    for (int id : GpuSelection.parse(gpu, found.devices().size())) {
      CudaDevices.Device d = found.devices().get(id);
      LOG.log(Level.INFO, "Querying GPUs " + id);
      LOG.log(Level.INFO, "Device id:                     " + d.index());
      LOG.log(Level.INFO, "Major revision number:         " + d.major());
      LOG.log(Level.INFO, "Minor revision number:         " + d.minor());
      LOG.log(Level.INFO, "Name:                          " + d.name());
      LOG.log(Level.INFO, "PCI bus id:                    " + d.pciBusId());
      LOG.log(Level.INFO, "Total global memory:           " + d.totalBytes());
      LOG.log(Level.INFO, "Memory used:                   " + d.usedBytes());
      LOG.log(Level.INFO, "Memory free:                   " + d.freeBytes());
      LOG.log(Level.INFO, "Utilisation:                   " + d.utilisation());
    }
    return 0;
  }
}
