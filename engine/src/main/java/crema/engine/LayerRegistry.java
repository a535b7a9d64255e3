package crema.engine;

import caffe.Caffe.LayerParameter;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The layer types, keyed by Caffe's type strings ("InnerProduct", "ReLU", …). Each layer class
 * registers itself with {@link LayerType}; this registry reads the index the build makes of them
 * and names none itself.
 */
public final class LayerRegistry {
  private static final Map<String, Function<LayerParameter, Layer>> TYPES =
      Registrations.load("layer-types", LayerParameter.class, Layer.class);

  private LayerRegistry() {}

  /** Whether a layer class is registered for {@code type}. */
  public static boolean has(String type) {
    return TYPES.containsKey(type);
  }

  /** Every registered type string, sorted. */
  public static Set<String> types() {
    return Set.copyOf(TYPES.keySet());
  }

  /** Creates the layer {@code param} describes; an unknown type fails naming the layer. */
  public static Layer create(LayerParameter param) {
    Function<LayerParameter, Layer> factory = TYPES.get(param.getType());
    if (factory == null) {
      throw new NetException("layer '" + param.getName() + "': Unknown layer type: " + param.getType()
          + " (known types: " + String.join(", ", TYPES.keySet()) + ")");
    }
    return factory.apply(param);
  }
}
