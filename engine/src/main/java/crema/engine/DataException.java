package crema.engine;

/**
 * Input data the net cannot use: a record of the wrong size, uint8 bytes where float features
 * were meant, a source that cannot be opened. The message names the source and the record.
 */
public class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
