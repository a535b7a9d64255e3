package crema.bus;

import io.micronaut.context.annotation.Requires;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Readiness of every service: the Kafka cluster answers (its nodes are listed within the timeout).
 * {@code /health} and {@code /health/readiness} are DOWN, with the reason, while it does not;
 * {@code /health/liveness} stays UP so that an orchestrator waits instead of restarting.
 */
@Singleton
@Readiness
@Requires(beans = KafkaClients.class)
public class KafkaHealth extends AbstractHealthIndicator<Map<String, Object>> {
  static final long TIMEOUT_MS = 3000;

  private final KafkaClients clients;
  private volatile Admin admin;

  public KafkaHealth(KafkaClients clients) {
    this.clients = clients;
  }

  @Override
  protected Map<String, Object> getHealthInformation() {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("bootstrapServers", clients.bootstrapServers());
    try {
      var cluster = admin().describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT_MS));
      int nodes = cluster.nodes().get(TIMEOUT_MS, TimeUnit.MILLISECONDS).size();
      details.put("nodes", nodes);
      healthStatus = nodes > 0 ? HealthStatus.UP : HealthStatus.DOWN;
    } catch (Exception e) {
      details.put("error", "Kafka did not answer within " + TIMEOUT_MS + " ms: " + e);
      healthStatus = HealthStatus.DOWN;
    }
    return details;
  }

  private Admin admin() {
    if (admin == null) {
      synchronized (this) {
        if (admin == null) {
          admin = clients.admin("crema-health");
        }
      }
    }
    return admin;
  }

  @jakarta.annotation.PreDestroy
  void close() {
    if (admin != null) {
      admin.close();
    }
  }

  @Override
  protected String getName() {
    return "kafka";
  }
}
