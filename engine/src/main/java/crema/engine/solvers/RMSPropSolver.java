package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;

/** RMSProp: H ← ρ·H + (1 − ρ)·g²; W ← W − α·g / (√H + δ), ρ = rms_decay. Momentum must be 0. */
@SolverType("RMSProp")
final class RMSPropSolver extends Solver {
  RMSPropSolver(SolverParameter param) {
    super(param);
    if (param.getMomentum() != 0) {
      throw new IllegalArgumentException("Momentum cannot be used with RMSProp.");
    }
    if (param.getRmsDecay() < 0 || param.getRmsDecay() >= 1) {
      throw new IllegalArgumentException("rms_decay should lie between 0 and 1.");
    }
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    float[] g = p.diff();
    float[] h = history.get(i).data();
    float rho = param.getRmsDecay();
    float delta = param.getDelta();
    float local = localRate(i, rate);
    for (int k = 0; k < p.count(); k++) {
      h[k] = (1 - rho) * (g[k] * g[k]) + rho * h[k];
      float update = g[k] / ((float) Math.sqrt(h[k]) + delta);
      g[k] = local * update;
    }
  }
}
