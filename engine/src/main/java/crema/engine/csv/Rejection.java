package crema.engine.csv;

/** A refused row: where it came from, its line number, the line as read, and why. */
public record Rejection(String source, long line, String rawLine, String reason) {
  @Override
  public String toString() {
    return source + ":" + line + ": " + reason;
  }
}
