package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;

/** AdaGrad: H ← H + g²; W ← W − α·g / (√H + δ). Momentum must be 0. */
@SolverType("AdaGrad")
final class AdaGradSolver extends Solver {
  AdaGradSolver(SolverParameter param) {
    super(param);
    if (param.getMomentum() != 0) {
      throw new IllegalArgumentException("Momentum cannot be used with AdaGrad.");
    }
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    float[] g = p.diff();
    float[] h = history.get(i).data();
    float delta = param.getDelta();
    float local = localRate(i, rate);
    for (int k = 0; k < p.count(); k++) {
      h[k] = g[k] * g[k] + h[k];
      float update = g[k] / ((float) Math.sqrt(h[k]) + delta);
      g[k] = local * update;
    }
  }
}
