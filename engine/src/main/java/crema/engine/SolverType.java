package crema.engine;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Registers a {@link Solver} class under Caffe's solver type string: Caffe's
 * {@code REGISTER_SOLVER_CLASS}. The class needs a constructor taking the
 * {@link caffe.Caffe.SolverParameter}; it may be package-private. The {@code crema-index}
 * annotation processor adds it to {@code META-INF/crema/solver-types}, which
 * {@link Solver#create} reads.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface SolverType {
  /** The solver's type string, as {@code SolverParameter.type} names it ("SGD", "Adam", …). */
  String value();
}
