package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;
import crema.engine.math.Kernel;

/**
 * Caffe's SGD with momentum: V ← μ·V + α·g; W ← W − V. The learning rate is folded into the
 * velocity, unlike PyTorch's v ← μ·v + g.
 */
@SolverType("SGD")
final class SgdSolver extends Solver {
  /** gpu/src/main/cuda/sgd_solver.cu: history = momentum·history + rate·diff; diff = history. */
  static final Kernel UPDATE = Kernel.of("sgd_solver",
      "crema_sgd_update(int n, float rate, float momentum, float* diff, float* history)", (i, a) -> {
        float[] diff = a.buffer(3);
        float[] history = a.buffer(4);
        history[i] = a.real(2) * history[i] + a.real(1) * diff[i];
        diff[i] = history[i];
      });

  SgdSolver(SolverParameter param) {
    super(param);
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    Blob v = history.get(i);
    if (device != null) {
      device.launch(UPDATE, p.count(), p.count(), localRate(i, rate), param.getMomentum(),
          p.mutableDeviceDiff(device), v.mutableDeviceData(device));
      return;
    }
    math.axpby(p.count(), localRate(i, rate), p.diff(), 0, param.getMomentum(), v.data(), 0);
    System.arraycopy(v.data(), 0, p.diff(), 0, p.count());
  }
}
