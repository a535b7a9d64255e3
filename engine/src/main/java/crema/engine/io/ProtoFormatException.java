package crema.engine.io;

/** A .prototxt, .caffemodel or .solverstate that cannot be read; the message names the file and place. */
public class ProtoFormatException extends RuntimeException {
  public ProtoFormatException(String message) {
    super(message);
  }

  public ProtoFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
