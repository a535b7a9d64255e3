package crema.engine.csv;

/** A CSV row that cannot become a Datum; the reason names the column and the value. */
public class RowRejectedException extends Exception {
  public RowRejectedException(String reason) {
    super(reason);
  }
}
