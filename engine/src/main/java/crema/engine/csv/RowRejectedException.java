package crema.engine.csv;

/** A CSV row that cannot become a Datum; the reason names the column and the value. */
public class RowRejectedException extends Exception {
  private final String kind;

  /**
   * {@code kind}: a short fixed name for the reason ("not_a_number", "column_count", ...), for
   * counting rejections by reason without one count per value.
   */
  public RowRejectedException(String kind, String reason) {
    super(reason);
    this.kind = kind;
  }

  public String kind() {
    return kind;
  }
}
