package crema.cli;

import caffe.Caffe.SolverParameter;
import crema.engine.math.Device;
import crema.gpu.CudaDevice;
import crema.gpu.CudaDevices;
import crema.gpu.GpuSelection;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPUs a command runs on, as Caffe chooses them: the {@code -gpu} flag when given (and then a
 * missing driver or device is an error naming what is missing); else, for a solver with
 * {@code solver_mode: GPU}, its {@code device_id}, or the CPU with one line saying why; else the
 * CPU. CUDA_VISIBLE_DEVICES is applied by the driver, so ids count the visible devices.
 */
final class Gpus implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Gpus.class.getName());

  private final List<CudaDevice> devices;

  private Gpus(List<CudaDevice> devices) {
    this.devices = devices;
  }

  static Gpus open(String gpuFlag, SolverParameter solver) {
    if (gpuFlag != null && !gpuFlag.isEmpty()) {
      CudaDevices found = CudaDevices.probe();
      if (found.devices().isEmpty()) {
        throw new IllegalArgumentException("-gpu " + gpuFlag + " was requested, but " + found.problem());
      }
      return open(GpuSelection.parse(gpuFlag, found.devices().size()));
    }
    if (solver != null && solver.getSolverMode() == SolverParameter.SolverMode.GPU) {
      CudaDevices found = CudaDevices.probe();
      if (found.devices().isEmpty()) {
        LOG.log(Level.INFO, "solver_mode is GPU but " + found.problem() + ": using the CPU");
        return new Gpus(List.of());
      }
      if (solver.getDeviceId() >= found.devices().size()) {
        throw new IllegalArgumentException("solver device_id " + solver.getDeviceId() + " does not exist: "
            + found.devices().size() + " device(s) visible");
      }
      return open(List.of(solver.getDeviceId()));
    }
    return new Gpus(List.of());
  }

  private static Gpus open(List<Integer> ids) {
    StringBuilder using = new StringBuilder("Using GPUs");
    ids.forEach(i -> using.append(' ').append(i));
    LOG.log(Level.INFO, using.toString());
    List<CudaDevice> opened = new ArrayList<>();
    for (int id : ids) {
      CudaDevice d = new CudaDevice(id);
      LOG.log(Level.INFO, d.describe());
      opened.add(d);
    }
    return new Gpus(opened);
  }

  boolean cpu() {
    return devices.isEmpty();
  }

  List<CudaDevice> devices() {
    return devices;
  }

  /** Makes nets built on this thread use the first device (none: the CPU). */
  Gpus useFirst() {
    Device.use(devices.isEmpty() ? null : devices.get(0));
    if (devices.isEmpty()) {
      LOG.log(Level.INFO, "Use CPU.");
    }
    return this;
  }

  /** Waits for the first device's queued work (none on the CPU): timings end when kernels finish. */
  void synchronize() {
    if (!devices.isEmpty()) {
      devices.get(0).synchronize();
    }
  }

  @Override
  public void close() {
    Device.use(null);
    for (CudaDevice d : devices) {
      d.close();
    }
  }
}
