package crema.engine;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Registers a {@link Layer} class under Caffe's type string: Caffe's {@code REGISTER_LAYER_CLASS}.
 * The class needs a constructor taking the {@link caffe.Caffe.LayerParameter}; it may be
 * package-private. At compile time the {@code crema-index} annotation processor adds the class to
 * {@code META-INF/crema/layer-types}, which {@link LayerRegistry} reads, so a layer's registration
 * is this one line in its own file:
 *
 * <pre>{@code
 * @LayerType("ReLU")
 * final class ReLULayer extends NeuronLayer { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface LayerType {
  /** Caffe's type string, as a prototxt's {@code type:} names it ("InnerProduct", "ReLU", …). */
  String value();
}
