package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;
import crema.engine.math.Kernel;

/**
 * Adam with β1 = momentum, β2 = momentum2: m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * W ← W − α·√(1 − β2ᵗ)/(1 − β1ᵗ)·m/(√v + δ), t = iter + 1. δ is added to the uncorrected √v, as
 * in Caffe. History holds m for every parameter, then v.
 */
@SolverType("Adam")
final class AdamSolver extends Solver {
  /**
   * gpu/src/main/cuda/adam_solver.cu, in the CPU's order of operations so the two round alike;
   * correction = √(1 − β2ᵗ)/(1 − β1ᵗ).
   */
  static final Kernel UPDATE = Kernel.of("adam_solver",
      "crema_adam_update(int n, float rate, float beta1, float beta2, float eps, float correction,"
          + " float* diff, float* m, float* v)",
      (i, a) -> {
        float beta1 = a.real(2);
        float beta2 = a.real(3);
        float[] diff = a.buffer(6);
        float[] m = a.buffer(7);
        float[] v = a.buffer(8);
        float g = diff[i];
        m[i] = (1f - beta1) * g + beta1 * m[i];
        v[i] = (1f - beta2) * (g * g) + beta2 * v[i];
        diff[i] = (a.real(1) * a.real(5)) * (m[i] / ((float) Math.sqrt(v[i]) + a.real(4)));
      });

  AdamSolver(SolverParameter param) {
    super(param);
    addSecondHistory();
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    int n = net.learnableParams().size();
    float beta1 = param.getMomentum();
    float beta2 = param.getMomentum2();
    float eps = param.getDelta();
    int t = iter() + 1;
    float correction = (float) (Math.sqrt(1.0f - Math.pow(beta2, t)) / (1.0f - Math.pow(beta1, t)));
    if (device != null) {
      device.launch(UPDATE, p.count(), p.count(), localRate(i, rate), beta1, beta2, eps, correction,
          p.mutableDeviceDiff(device), history.get(i).mutableDeviceData(device),
          history.get(n + i).mutableDeviceData(device));
      return;
    }
    float scale = localRate(i, rate) * correction;
    float[] g = p.diff();
    float[] m = history.get(i).data();
    float[] v = history.get(n + i).data();
    for (int k = 0; k < p.count(); k++) {
      m[k] = (1 - beta1) * g[k] + beta1 * m[k];
      v[k] = (1 - beta2) * (g[k] * g[k]) + beta2 * v[k];
      g[k] = scale * (m[k] / ((float) Math.sqrt(v[k]) + eps));
    }
  }
}
