package crema.client;

/** A service refused a request or could not be reached: the HTTP status (0 when none) and its error message. */
public final class CremaException extends RuntimeException {
  private final int status;

  public CremaException(int status, String message) {
    super(message);
    this.status = status;
  }

  public CremaException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
  }

  /** The HTTP status, or 0 when the request got no answer. */
  public int status() {
    return status;
  }
}
