package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;

/**
 * AdaDelta with ρ = momentum: E[g²] ← ρ·E[g²] + (1 − ρ)·g²; Δ = g·√((E[Δ²] + δ)/(E[g²] + δ));
 * E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²; W ← W − α·Δ. History holds E[g²] for every parameter, then E[Δ²].
 */
@SolverType("AdaDelta")
final class AdaDeltaSolver extends Solver {
  AdaDeltaSolver(SolverParameter param) {
    super(param);
    addSecondHistory();
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    int n = net.learnableParams().size();
    float[] g = p.diff();
    float[] eg = history.get(i).data();
    float[] ed = history.get(n + i).data();
    float rho = param.getMomentum();
    float delta = param.getDelta();
    float local = localRate(i, rate);
    for (int k = 0; k < p.count(); k++) {
      eg[k] = (1 - rho) * (g[k] * g[k]) + rho * eg[k];
      float ratio = (delta + ed[k]) / (delta + eg[k]);
      float step = g[k] * (float) Math.sqrt(ratio);
      ed[k] = (1 - rho) * (step * step) + rho * ed[k];
      g[k] = local * step;
    }
  }
}
