package crema.up;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.env.PropertySource;
import io.micronaut.context.env.yaml.YamlPropertySourceLoader;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.Micronaut;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code crema up}: the pipeline in one process. A real Kafka broker (KRaft, Apache Kafka's own
 * server code) and the ingest, trainer, inference and visualizer services, each in its own
 * Micronaut context on its own port, sharing only topics; examples/otto's data is streamed in through ingest and the
 * seed's job is submitted. Ctrl-C stops everything.
 *
 * <p>Its console is one logback pattern for every line (up's logback.xml): a short start-up
 * summary, then the pipeline's progress from the services' own loggers (rows ingested, each test,
 * each checkpoint served) and anything at WARN or above. {@code --verbose} shows every logger at
 * INFO.
 */
@Command(name = "crema up", mixinStandardHelpOptions = true,
    description = "Run the pipeline on an embedded broker with the Otto example streamed in.")
public final class CremaUp implements Callable<Integer> {
  private static final String[] SERVICES = {"ingest", "trainer", "inference", "visualizer"};
  private static final int[] PORTS = {8081, 8082, 8083, 8080};
  /** Between the class path's application.yml (−300) and environment variables (−200). */
  private static final int SERVICE_CONFIGURATION_ORDER = -250;
  /** crema up's own lines: the start-up summary. */
  private static final Logger LOG = LoggerFactory.getLogger("crema.up");

  /** CREMA_API_TOKEN: when set, every service asks for it (and this process sends it). */
  static final String API_TOKEN = System.getenv().getOrDefault("CREMA_API_TOKEN", "");

  static HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri);
    return API_TOKEN.isEmpty() ? b : b.header("Authorization", "Bearer " + API_TOKEN);
  }

  @Option(names = "--kafka-port", defaultValue = "9092", description = "The broker's port (0: any free port);"
      + " with --brokers N, broker i listens on this port + i - 1.")
  int kafkaPort;

  @Option(names = "--brokers", defaultValue = "1", description = "Kafka brokers in the cluster (3: topics on 3"
      + " replicas with min.insync.replicas 2, so one broker can fail).")
  int brokers;

  @Option(names = "--data-dir", defaultValue = "target/crema-up", description = "Where the broker and the example data live.")
  Path dataDir;

  @Option(names = "--rows", defaultValue = "61878", description = "Otto-shaped training rows to generate and stream in.")
  int rows;

  @Option(names = "--max-iter", defaultValue = "100000", description = "Iterations of the seed job.")
  int maxIter;

  @Option(names = "--exit-when-served", description = "Stop once the final checkpoint is served (a smoke test).")
  boolean exitWhenServed;

  @Option(names = {"-v", "--verbose"}, description = "Show every logger at INFO (the broker's, the services' and the"
      + " engine's), not only the summary, the progress and warnings.")
  boolean verbose;

  public static void main(String[] args) {
    // java.util.logging's users (netlib's BLAS loader) print through logback too: one line format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    CommandLine cli = new CommandLine(new CremaUp());
    // A failure is a console line of the one pattern too; a stack trace only for the unexpected.
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalStateException) {
        LOG.error("stopped: {}", e.getMessage());
      } else {
        LOG.error("stopped", e);
      }
      return 1;
    });
    System.exit(cli.execute(args));
  }

  /**
   * {@code --verbose}: every logger at INFO. up's logback.xml keeps the console to the summary and
   * the progress loggers; this drops its levels so that every logger inherits the root's INFO.
   */
  static void showEveryLogger() {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
      for (ch.qos.logback.classic.Logger l : context.getLoggerList()) {
        if (l != root) {
          l.setLevel(null);
        }
      }
      root.setLevel(Level.INFO);
    }
  }

  /**
   * One service's context as crema up runs it: the service's own {@code application.yml} (kept in
   * each service's jar as {@code crema/<name>/application.yml}), with only what must differ in one
   * process set here: the port, the broker, and which service's beans are on
   * ({@code crema.services.<name>}). {@code overrides} go on top (tests use them to run a service
   * in-process with settings of their own).
   */
  public static ApplicationContext service(String name, int port, String bootstrap, Map<String, Object> overrides) {
    Map<String, Object> p = new HashMap<>();
    p.put("micronaut.server.port", port);
    p.put("kafka.bootstrap.servers", bootstrap);
    for (String s : SERVICES) {
      p.put("crema.services." + s, s.equals(name));
    }
    p.putAll(overrides);
    return Micronaut.build(new String[0])
        .banner(false)
        .propertySources(serviceConfiguration(name))
        .properties(p)
        .deduceEnvironment(false)
        .start();
  }

  /**
   * {@code crema/<name>/application.yml} as a property source above any root
   * {@code application.yml} on the class path (another service's, outside the shaded jar) and below
   * environment variables and the settings {@link #service} gives.
   */
  static PropertySource serviceConfiguration(String name) {
    String resource = "crema/" + name + "/application.yml";
    try (InputStream in = CremaUp.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the class path: is the " + name
            + " service's jar?");
      }
      Map<String, Object> values = new YamlPropertySourceLoader().read(resource, in);
      return PropertySource.of("crema-" + name, values, SERVICE_CONFIGURATION_ORDER);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (verbose) {
      showEveryLogger();
    }
    Path repo = Path.of("").toAbsolutePath();
    if (!Files.exists(repo.resolve("examples/otto/GenerateOtto.java"))) {
      throw new IllegalStateException("run crema up from the repository root (examples/otto is needed)");
    }
    Files.createDirectories(dataDir);
    List<ApplicationContext> contexts = new ArrayList<>();
    if (brokers < 1) {
      throw new IllegalStateException("--brokers must be at least 1, not " + brokers);
    }
    LOG.info("starting {} (KRaft) and the {} services in this process",
        brokers == 1 ? "a Kafka broker" : "a cluster of " + brokers + " Kafka brokers", String.join(", ", SERVICES));
    try (EmbeddedBroker broker = EmbeddedBroker.start(dataDir.resolve("kafka"), false, kafkaPort, brokers, Map.of())) {
      try {
        runPipeline(broker, contexts, repo);
      } finally {
        // The services stop before the broker they talk to (try-with-resources closes it after
        // this), or each of their clients warns of the broker's absence while it stops.
        for (ApplicationContext c : contexts) {
          c.close();
        }
      }
    }
    return 0;
  }

  /** Starts the services on the broker, streams the example in, prints the summary, then waits. */
  private void runPipeline(EmbeddedBroker broker, List<ApplicationContext> contexts, Path repo) throws Exception {
    // On Ctrl-C Micronaut's own shutdown hook stops each service's context; closing them here too
    // deadlocks the two stops. This hook waits for the services to be down, then stops the broker.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long deadline = System.currentTimeMillis() + 30_000;
      while (contexts.stream().anyMatch(ApplicationContext::isRunning) && System.currentTimeMillis() < deadline) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
      broker.close();
    }));
    for (int i = 0; i < SERVICES.length; i++) {
      contexts.add(service(SERVICES[i], PORTS[i], broker.bootstrapServers(), Map.of()));
    }
    HttpClient http = HttpClient.newHttpClient();
    for (int port : PORTS) {
      await(http, "http://localhost:" + port + "/health/liveness", 120);
    }
    Path otto = dataDir.resolve("otto");
    Files.createDirectories(otto);
    if (!Files.exists(otto.resolve("train.csv"))) {
      LOG.info("generating {} Otto-shaped rows in {}", rows, otto);
      int rc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          repo.resolve("examples/otto/GenerateOtto.java").toString(), Integer.toString(rows), "10000", "1",
          otto.toString()).inheritIO().start().waitFor();
      if (rc != 0) {
        throw new IllegalStateException("generating the Otto data failed");
      }
    }
    if (alreadyIngested(broker)) {
      // The broker kept its data from an earlier run: the rows are there and the trainer resumes
      // the job from crema.jobs; streaming the rows again would count each of them twice.
      LOG.info("{} already holds the Otto rows and the job; the trainer resumes it from its newest checkpoint",
          broker.dataDir());
    } else {
      ingestAndSubmit(http, repo, otto);
    }
    // One line each, so that every line of the console has the one pattern.
    for (String line : """
        ready.
          Kafka:      %s
          ingest:     curl -H 'Content-Type: text/csv' --data-binary @rows.csv 'http://localhost:%d/v1/datasets/NAME/rows?label=COLUMN'
          jobs:       curl http://localhost:%d/v1/jobs
          models:     curl http://localhost:%d/v1/models
          predict:    curl -X POST http://localhost:%d/v1/models/otto:predict -H 'Content-Type: text/csv' --data-binary @%s
          dashboard:  http://localhost:%d
          metrics:    curl http://localhost:%d/prometheus   (each service; health: /health)
        Ctrl-C stops everything.""".formatted(broker.bootstrapServers(), PORTS[0], PORTS[1], PORTS[2], PORTS[2],
        otto.resolve("test.csv"), PORTS[3], PORTS[1]).split("\n")) {
      LOG.info(line);
    }
    if (exitWhenServed) {
      await(http, "http://localhost:8083/v1/models/otto", 600);
      long deadline = System.currentTimeMillis() + 600_000;
      while (System.currentTimeMillis() < deadline) {
        String body = http.send(request(URI.create("http://localhost:8083/v1/models/otto")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        if (body.contains("\"iteration\":" + maxIter + ",")) {
          String dashboard = http.send(request(URI.create("http://localhost:8080/api/overview"))
              .build(), HttpResponse.BodyHandlers.ofString()).body();
          String page = http.send(request(URI.create("http://localhost:8080/")).build(),
              HttpResponse.BodyHandlers.ofString()).body();
          LOG.info("otto is served at iteration {}; the dashboard at http://localhost:8080 {}; stopping"
              + " (--exit-when-served)", maxIter, page.contains("/app.js")
              && dashboard.contains("\"model\":\"otto\"") ? "shows the otto run" : "does not show the otto run");
          break;
        }
        Thread.sleep(500);
      }
    } else {
      new CountDownLatch(1).await();
    }
  }

  /**
   * Streams train.csv through ingest (which logs the counts) and submits the seed's job. A refused
   * upload stops crema up: the job would wait for rows that never come.
   */
  private void ingestAndSubmit(HttpClient http, Path repo, Path otto) throws Exception {
    LOG.info("streaming {} into ingest (log1p, stratified 98/2 split)", otto.resolve("train.csv"));
    HttpResponse<String> ingested = http.send(request(URI.create(
        "http://localhost:8081/v1/datasets/otto/rows?label=target&id=id&log1p=true&test_fraction=0.02&seed=0"
            + "&labels=Class_1,Class_2,Class_3,Class_4,Class_5,Class_6,Class_7,Class_8,Class_9&source=otto-train.csv"))
        .header("Content-Type", "text/csv").POST(HttpRequest.BodyPublishers.ofFile(otto.resolve("train.csv"))).build(),
        HttpResponse.BodyHandlers.ofString());
    if (ingested.statusCode() != 200) {
      throw new IllegalStateException("ingest refused the Otto rows: " + ingested.statusCode() + " "
          + ingested.body());
    }
    JsonMapper mapper = JsonMapper.createDefault();
    Map<?, ?> reply = mapper.readValue(ingested.body(), Map.class);
    int heldOut = ((Number) ((Map<?, ?>) reply.get("perSplit")).get("test")).intValue();
    int interval = Math.max(1, Math.min(10000, maxIter / 2));
    // The TEST net reads the held-out split exactly once per test, so a checkpoint's test accuracy
    // is the accuracy on that split: what the served model scores on the same rows.
    String solver = Files.readString(repo.resolve("examples/otto/otto_kafka_solver.prototxt"))
        .replace("max_iter: 100000", "max_iter: " + maxIter)
        .replace("snapshot: 10000", "snapshot: " + interval)
        .replace("test_interval: 10000", "test_interval: " + interval)
        .replace("test_iter: 12", "test_iter: 1");
    String net = Files.readString(repo.resolve("examples/otto/otto_kafka_train_test.prototxt"))
        .replace("source: \"crema.datums.otto.test\" batch_size: 100", "source: \"crema.datums.otto.test\" batch_size: "
            + heldOut);
    String job = mapper.writeValueAsString(Map.of("model", "otto", "solver", solver, "net", net));
    HttpResponse<String> submitted = http.send(request(URI.create("http://localhost:8082/v1/jobs"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(job)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (submitted.statusCode() / 100 != 2) {
      throw new IllegalStateException("the trainer refused the seed job: " + submitted.statusCode() + " "
          + submitted.body());
    }
    LOG.info("otto: submitted the seed job {}: {} iterations, a test and a checkpoint every {}",
        mapper.readValue(submitted.body(), Map.class).get("id"), maxIter, interval);
  }

  /** Whether the broker's data (kept across runs in --data-dir) already holds the Otto rows. */
  private static boolean alreadyIngested(EmbeddedBroker broker) {
    var clients = new KafkaClients(broker.bootstrapServers(), Map.of());
    try (var c = clients.consumer("crema-up")) {
      var parts = c.partitionsFor("crema.datums.otto.train", Duration.ofSeconds(5));
      if (parts == null || parts.isEmpty()) {
        return false;
      }
      var tp = new TopicPartition("crema.datums.otto.train", 0);
      return c.endOffsets(List.of(tp)).get(tp) > 0;
    }
  }

  private static void await(HttpClient http, String url, int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (http.send(request(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() < 400) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(300);
    }
    throw new IllegalStateException(url + " did not answer within " + seconds + " s");
  }
}
