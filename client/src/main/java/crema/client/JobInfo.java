package crema.client;

import java.util.LinkedHashMap;
import java.util.Map;

/** A job as the trainer shows it: id (also the run id), model, state, iteration, metrics, message. */
public record JobInfo(String id, String model, String state, int iteration, Map<String, Double> metrics,
    String message) {
  public JobInfo {
    metrics = Map.copyOf(metrics);
  }

  /** Whether the job will not change again (FINISHED, FAILED, STOPPED). */
  public boolean isFinal() {
    return state.equals("FINISHED") || state.equals("FAILED") || state.equals("STOPPED");
  }

  static JobInfo of(Map<String, Object> m) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (m.get("metrics") instanceof Map<?, ?> mm) {
      mm.forEach((k, v) -> metrics.put(String.valueOf(k), CremaClient.number(v)));
    }
    return new JobInfo(String.valueOf(m.get("id")), String.valueOf(m.get("model")), String.valueOf(m.get("state")),
        (int) CremaClient.number(m.get("iteration")), metrics, m.get("message") == null ? "" : m.get("message").toString());
  }
}
