package crema.client;

import java.util.Map;

/**
 * What ingest answered: rows accepted and rejected (they add up to the rows received), and the
 * whole reply as JSON values.
 */
public record IngestResult(long accepted, long rejected, Map<String, Object> reply) {
  public IngestResult {
    reply = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(reply));
  }

  static IngestResult of(Map<String, Object> reply) {
    return new IngestResult((long) CremaClient.number(reply.get("accepted")), (long) CremaClient.number(reply.get("rejected")),
        reply);
  }
}
