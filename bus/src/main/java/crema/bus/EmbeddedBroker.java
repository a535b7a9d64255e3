package crema.bus;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka broker in KRaft mode (broker and controller in one), run in-process from
 * Apache Kafka's own server code: for tests and for {@code crema up}. Its storage is formatted on
 * first start and kept across {@link #restart()}, so a restart is a real broker restart.
 */
public final class EmbeddedBroker implements AutoCloseable {
  private final Path dir;
  private final boolean deleteOnClose;
  private final int port;
  private final int controllerPort;
  private final Map<String, String> extra;
  private KafkaRaftServer server;

  private static EmbeddedBroker shared;

  /** One broker per JVM, started on first use and closed at exit: tests share it. */
  public static synchronized EmbeddedBroker shared() {
    if (shared == null) {
      shared = start();
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  private EmbeddedBroker(Path dir, boolean deleteOnClose, int port, int controllerPort, Map<String, String> extra) {
    this.extra = Map.copyOf(extra);
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Starts a broker in a fresh temporary folder on free ports; the folder goes on close. */
  public static EmbeddedBroker start() {
    return start(Map.of());
  }

  /**
   * The same with broker settings of the caller's on top of this class's (tests: e.g.
   * {@code log.retention.ms} for a broker whose defaults would delete data).
   */
  public static EmbeddedBroker start(Map<String, String> brokerSettings) {
    try {
      return start(Files.createTempDirectory("crema-kafka"), true, 0, brokerSettings);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a broker keeping its data in {@code dir}; port 0 picks a free one. */
  public static EmbeddedBroker start(Path dir, boolean deleteOnClose, int port) {
    return start(dir, deleteOnClose, port, Map.of());
  }

  /** The same with broker settings of the caller's on top of this class's. */
  public static EmbeddedBroker start(Path dir, boolean deleteOnClose, int port, Map<String, String> brokerSettings) {
    EmbeddedBroker b = new EmbeddedBroker(dir, deleteOnClose, port == 0 ? freePort() : port, freePort(), brokerSettings);
    b.format();
    b.startServer();
    return b;
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Properties config() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
    p.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.resolve("data").toString());
    p.put("num.partitions", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // The default dedupe buffer allocates 128 MiB and doubles the start time.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 << 20));
    p.put("auto.create.topics.enable", "true");
    p.putAll(extra);
    return p;
  }

  private void format() {
    Path data = dir.resolve("data");
    if (Files.exists(data.resolve("meta.properties"))) {
      return;
    }
    try {
      new Formatter()
          .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .addDirectory(data.toString())
          .setMetadataLogDirectory(data.toString())
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setControllerListenerName("CONTROLLER")
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format Kafka storage in " + data + ": " + e.getMessage(), e);
    }
  }

  private void startServer() {
    server = new KafkaRaftServer(new KafkaConfig(config(), false), Time.SYSTEM);
    server.startup();
  }

  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public Path dataDir() {
    return dir;
  }

  /** Stops the broker, keeping its data. */
  public void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Stops and starts the broker again on the same port and data. */
  public void restart() {
    stop();
    startServer();
  }

  @Override
  public void close() {
    stop();
    if (deleteOnClose) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // A leftover temporary folder is harmless.
      }
    }
  }
}
