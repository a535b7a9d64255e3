package crema.engine;

/** A net or layer that cannot be built or run; the message names the layer and what is wrong. */
public class NetException extends RuntimeException {
  public NetException(String message) {
    super(message);
  }

  public NetException(String message, Throwable cause) {
    super(message, cause);
  }

  public NetException(Layer layer, String message) {
    super("layer '" + layer.name() + "' (" + layer.type() + "): " + message);
  }

  public NetException(Layer layer, String message, Throwable cause) {
    super("layer '" + layer.name() + "' (" + layer.type() + "): " + message, cause);
  }
}
