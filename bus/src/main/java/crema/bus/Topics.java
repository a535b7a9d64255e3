package crema.bus;

/**
 * The pipeline's topic names (shared/DESIGN.md). Each is configuration in the services, with these
 * defaults.
 */
public final class Topics {
  public static final String RAW = "crema.raw";
  public static final String DATASETS = "crema.datasets";
  public static final String DEAD_LETTER = "crema.dead-letter";
  public static final String CHECKPOINTS = "crema.checkpoints";
  public static final String TRAIN_EVENTS = "crema.train-events";
  public static final String PREDICT_REQUESTS = "crema.predict-requests";
  public static final String PREDICTIONS = "crema.predictions";
  public static final String JOBS = "crema.jobs";

  private Topics() {}

  /** {@code crema.datums.<dataset>.<split>}: the Datum records of one split of a dataset. */
  public static String datums(String dataset, String split) {
    return "crema.datums." + checkName(dataset, "dataset") + "." + checkName(split, "split");
  }

  /** Dataset and split names become parts of topic names: letters, digits, '_' and '-' only. */
  public static String checkName(String name, String what) {
    if (name == null || !name.matches("[A-Za-z0-9_-]{1,100}")) {
      throw new IllegalArgumentException(what + " name '" + name
          + "' must be 1 to 100 letters, digits, '_' or '-'");
    }
    return name;
  }
}
