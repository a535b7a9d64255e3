package crema.engine.solvers;

import caffe.Caffe.SolverParameter;
import crema.engine.Blob;
import crema.engine.Solver;
import crema.engine.SolverType;
import java.util.Arrays;

/** Nesterov momentum: V ← μ·V + α·g; W ← W − [(1 + μ)·V − μ·V_prev]. */
@SolverType("Nesterov")
final class NesterovSolver extends Solver {
  NesterovSolver(SolverParameter param) {
    super(param);
  }

  @Override
  protected void computeUpdateValue(int i, float rate) {
    Blob p = net.learnableParams().get(i);
    Blob v = history.get(i);
    int n = p.count();
    float mu = param.getMomentum();
    float[] previous = Arrays.copyOf(v.data(), n);
    math.axpby(n, localRate(i, rate), p.diff(), 0, mu, v.data(), 0);
    math.axpby(n, 1 + mu, v.data(), 0, -mu, previous, 0);
    System.arraycopy(previous, 0, p.diff(), 0, n);
  }
}
