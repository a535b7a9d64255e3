package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.beans.Introspector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** The deployment files: compose against the Compose schema, Prometheus and Grafana wired to it, configuration documented. */
class DeploymentFilesTest {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @Test
  void composeFileFollowsTheComposeSpecification() throws Exception {
    var schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2019_09)
        .getSchema(Files.newInputStream(REPO.resolve("deploy/compose-spec.json")));
    String compose = Files.readString(REPO.resolve("docker-compose.yml"));
    var errors = schema.validate(compose, InputFormat.YAML);
    assertTrue(errors.isEmpty(), "docker-compose.yml: " + errors);
    // The check can fail: a misspelt key is an error.
    assertFalse(schema.validate(compose.replace("    ports:", "    portz:"), InputFormat.YAML).isEmpty());
    String cluster = Files.readString(REPO.resolve("deploy/compose-cluster.yml"));
    errors = schema.validate(cluster, InputFormat.YAML);
    assertTrue(errors.isEmpty(), "deploy/compose-cluster.yml: " + errors);
    assertFalse(schema.validate(cluster.replace("    deploy:", "    deplot:"), InputFormat.YAML).isEmpty());
  }

  /** deploy/compose-cluster.yml: 3 brokers of one KRaft quorum, every service on all 3, inference replicas behind nginx. */
  @Test
  @SuppressWarnings("unchecked")
  void clusterComposeRunsThreeBrokersAndInferenceReplicas() throws Exception {
    Map<String, Object> compose = new Yaml().load(Files.readString(REPO.resolve("deploy/compose-cluster.yml")));
    Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
    List<String> brokers = List.of("kafka-1", "kafka-2", "kafka-3");
    java.util.Set<Object> clusterIds = new java.util.HashSet<>();
    for (int i = 0; i < brokers.size(); i++) {
      Map<String, Object> b = services.get(brokers.get(i));
      assertTrue(((String) b.get("image")).startsWith("apache/kafka:"), "the official image");
      Map<String, Object> env = (Map<String, Object>) b.get("environment");
      assertEquals(i + 1, env.get("KAFKA_NODE_ID"));
      assertEquals("broker,controller", env.get("KAFKA_PROCESS_ROLES"));
      assertEquals("1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093", env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"),
          "one quorum of the three");
      assertEquals("PLAINTEXT://" + brokers.get(i) + ":9092", env.get("KAFKA_ADVERTISED_LISTENERS"));
      assertEquals(3, env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"));
      assertEquals(3, env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"));
      assertEquals(2, env.get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"));
      assertEquals(2, env.get("KAFKA_MIN_INSYNC_REPLICAS"));
      assertEquals(null, env.get("KAFKA_MESSAGE_MAX_BYTES"),
          "Kafka's default record limit: large checkpoints go in parts");
      clusterIds.add(env.get("CLUSTER_ID"));
    }
    assertEquals(1, clusterIds.size(), "one cluster id: " + clusterIds);
    for (String s : List.of("ingest", "trainer", "inference", "visualizer")) {
      Map<String, Object> env = (Map<String, Object>) services.get(s).get("environment");
      assertEquals("kafka-1:9092,kafka-2:9092,kafka-3:9092", env.get("KAFKA_BOOTSTRAP_SERVERS"), s);
      String build = (String) services.get(s).get("build");
      assertTrue(Files.exists(REPO.resolve("deploy").resolve(build).resolve("Dockerfile")), s + " builds its image");
    }
    Map<String, Object> deploy = (Map<String, Object>) services.get("inference").get("deploy");
    assertTrue((Integer) deploy.get("replicas") >= 2, "inference replicas");
    assertTrue(services.get("inference").get("ports") == null, "replicas publish no port of their own");
    String lbMount = ((List<String>) services.get("inference-lb").get("volumes")).get(0);
    String nginx = Files.readString(REPO.resolve("deploy").resolve(lbMount.split(":")[0]));
    assertTrue(nginx.contains("server inference:8083"), "nginx sends to every inference replica");
    assertTrue(nginx.matches("(?s).*proxy_next_upstream [^;]*http_503[^;]*non_idempotent.*"),
        "a 503 (a replica still loading its models) goes to the next replica, POST included");
    assertEquals("http://inference-lb:8083", ((Map<String, Object>) services.get("visualizer").get("environment"))
        .get("CREMA_VISUALIZER_INFERENCE_URL"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void composeRunsKafkaTheFourServicesPrometheusAndGrafana() throws Exception {
    Map<String, Object> compose = new Yaml().load(Files.readString(REPO.resolve("docker-compose.yml")));
    Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
    assertEquals(List.of("kafka", "ingest", "trainer", "inference", "visualizer", "prometheus", "grafana"),
        List.copyOf(services.keySet()));
    assertTrue(((String) services.get("kafka").get("image")).startsWith("apache/kafka:"), "the official image");
    assertEquals("broker,controller", ((Map<String, Object>) services.get("kafka").get("environment"))
        .get("KAFKA_PROCESS_ROLES"), "KRaft");
    for (String s : List.of("ingest", "trainer", "inference", "visualizer")) {
      String build = (String) services.get(s).get("build");
      assertTrue(Files.exists(REPO.resolve(build).resolve("Dockerfile")), s + " has a Dockerfile");
      String dockerfile = Files.readString(REPO.resolve(build).resolve("Dockerfile"));
      assertTrue(dockerfile.contains("target/crema-" + s + ".jar"), s + "'s image runs its shaded jar");
    }
    // Prometheus scrapes each service where compose runs it.
    Map<String, Object> prometheus = new Yaml().load(Files.readString(REPO.resolve("deploy/prometheus.yml")));
    List<Map<String, Object>> jobs = (List<Map<String, Object>>) prometheus.get("scrape_configs");
    for (String s : List.of("ingest", "trainer", "inference", "visualizer")) {
      String port = ((List<String>) services.get(s).get("ports")).get(0).split(":")[1].replace("\"", "");
      assertTrue(jobs.stream().anyMatch(j -> "/prometheus".equals(j.get("metrics_path"))
          && j.get("static_configs").toString().contains(s + ":" + port)), s + " scraped at " + port);
    }
    for (Object v : (List<Object>) services.get("grafana").get("volumes")) {
      String host = v.toString().split(":")[0];
      assertTrue(Files.exists(REPO.resolve(host)), "grafana mounts " + host);
    }
    Map<String, Object> ds = new Yaml().load(Files.readString(
        REPO.resolve("deploy/grafana/provisioning/datasources/prometheus.yml")));
    String uid = (String) ((List<Map<String, Object>>) ds.get("datasources")).get(0).get("uid");
    JsonNode dashboard = new ObjectMapper().readTree(REPO.resolve("deploy/grafana/dashboards/crema.json").toFile());
    for (JsonNode panel : dashboard.get("panels")) {
      if (panel.has("targets")) {
        assertEquals(uid, panel.get("datasource").get("uid").asText(), panel.get("title") + " uses the provisioned datasource");
      }
    }
  }

  /** The metric names a PromQL expression reads (functions, keywords, labels and strings left out). */
  static List<String> metricNames(String expr) {
    String s = expr.replaceAll("\"[^\"]*\"", "\"\"").replaceAll("\\{[^}]*}", "").replaceAll("\\[[^]]*]", "")
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", "");
    Matcher m = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()").matcher(s);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      String t = m.group();
      if (!List.of("by", "without", "and", "or", "unless", "offset", "bool", "le").contains(t)
          && !(m.end() < s.length() && s.charAt(m.end()) == '(')) {
        out.add(t);
      }
    }
    return out;
  }

  @Test
  void metricNamesAreReadFromExpressions() {
    assertEquals(List.of("a_bucket"), metricNames("histogram_quantile(0.99, sum by (le, phase) (rate(a_bucket{x=\"y\"}[5m])))"));
    assertEquals(List.of("a_sum", "a_count"), metricNames("rate(a_sum[5m]) / rate(a_count[5m])"));
  }

  /** Every key of each service's configuration class is in its README's table with its environment variable. */
  @Test
  void everyConfigurationKeyIsDocumented() throws Exception {
    Map<String, Class<?>> configs = Map.of("ingest", crema.ingest.IngestConfig.class, "trainer",
        crema.trainer.TrainerConfig.class, "inference", crema.inference.InferenceConfig.class, "visualizer",
        crema.visualizer.VisualizerConfig.class);
    for (var e : configs.entrySet()) {
      String readme = Files.readString(REPO.resolve(e.getKey() + "-service/README.md"));
      for (var p : Introspector.getBeanInfo(e.getValue(), Object.class).getPropertyDescriptors()) {
        String kebab = p.getName().replaceAll("([A-Z])", "-$1").toLowerCase();
        String key = "crema." + e.getKey() + "." + kebab;
        String env = key.toUpperCase().replace('.', '_').replace('-', '_');
        assertTrue(readme.matches("(?s).*\\| `" + Pattern.quote(key) + "` \\| [^|]+ \\| `" + env + "` \\|.*"),
            e.getKey() + "-service/README.md documents " + key + " with its default and " + env);
      }
      // crema.topics.*: every service creates and checks its topics with the same settings.
      for (var p : Introspector.getBeanInfo(crema.bus.TopicsConfig.class, Object.class).getPropertyDescriptors()) {
        String key = "crema.topics." + p.getName().replaceAll("([A-Z])", "-$1").toLowerCase();
        String env = key.toUpperCase().replace('.', '_').replace('-', '_');
        assertTrue(readme.matches("(?s).*\\| `" + Pattern.quote(key) + "` \\| [^|]+ \\| `" + env + "` \\|.*"),
            e.getKey() + "-service/README.md documents " + key + " with its default and " + env);
      }
      for (String common : List.of("micronaut.server.port", "kafka.bootstrap.servers", "kafka.client.*",
          "crema.api.token", "micronaut.server.max-request-size")) {
        assertTrue(readme.contains("| `" + common + "` |"), e.getKey() + "-service/README.md documents " + common);
      }
    }
  }
}
