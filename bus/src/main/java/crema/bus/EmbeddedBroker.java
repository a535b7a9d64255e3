package crema.bus;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Kafka broker, or a cluster of them, in KRaft mode, run in-process from Apache Kafka's
 * own server code: for tests and for {@code crema up}. Each node is broker and controller in one,
 * with its own port and data folder. Storage is formatted on first start and kept across
 * {@link #restart()}, so a restart is a real broker restart.
 *
 * <p>A cluster ({@link #startCluster}) of 3 nodes keeps every internal topic on 3 replicas with
 * {@code min.insync.replicas} 2, so one node can be stopped ({@link #stopNode}) and started again
 * ({@link #startNode}) while the other two keep the cluster writable.
 */
public final class EmbeddedBroker implements AutoCloseable {
  private final Path dir;
  private final boolean deleteOnClose;
  private final Map<String, String> extra;
  private final List<Node> nodes;

  private static EmbeddedBroker shared;

  /** One node of the cluster: its id, ports, data folder and, while it runs, its server. */
  private static final class Node {
    final int id;
    final int port;
    final int controllerPort;
    final Path data;
    KafkaRaftServer server;

    Node(int id, int port, int controllerPort, Path data) {
      this.id = id;
      this.port = port;
      this.controllerPort = controllerPort;
      this.data = data;
    }
  }

  /** One broker per JVM, started on first use and closed at exit: tests share it. */
  public static synchronized EmbeddedBroker shared() {
    if (shared == null) {
      shared = start();
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  private EmbeddedBroker(Path dir, boolean deleteOnClose, int port, int count, Map<String, String> extra) {
    if (count < 1) {
      throw new IllegalArgumentException("a Kafka cluster needs at least one broker, not " + count);
    }
    this.extra = Map.copyOf(extra);
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
    List<Node> list = new ArrayList<>();
    for (int id = 1; id <= count; id++) {
      // One node keeps its data where a single broker always has (dir/data): an existing crema up
      // folder stays readable. A cluster gives each node a folder of its own.
      Path data = count == 1 ? dir.resolve("data") : dir.resolve("node-" + id).resolve("data");
      list.add(new Node(id, port == 0 ? freePort() : port + id - 1, freePort(), data));
    }
    this.nodes = List.copyOf(list);
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
    return startCluster(1, brokerSettings);
  }

  /**
   * A cluster of {@code brokers} nodes in a fresh temporary folder on free ports; the folder goes
   * on close. Settings of the caller's go on top of this class's on every node.
   */
  public static EmbeddedBroker startCluster(int brokers, Map<String, String> brokerSettings) {
    try {
      return start(Files.createTempDirectory("crema-kafka"), true, 0, brokers, brokerSettings);
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
    return start(dir, deleteOnClose, port, 1, brokerSettings);
  }

  /**
   * Starts {@code brokers} nodes keeping their data under {@code dir} ({@code dir/node-<id>} each
   * in a cluster). Node ids are 1 to {@code brokers}; node {@code i} listens on {@code port + i - 1}
   * (port 0: free ports). All nodes start together: a node waits for a quorum of controllers.
   */
  public static EmbeddedBroker start(Path dir, boolean deleteOnClose, int port, int brokers,
      Map<String, String> brokerSettings) {
    EmbeddedBroker b = new EmbeddedBroker(dir, deleteOnClose, port, brokers, brokerSettings);
    String clusterId = b.existingClusterId();
    for (Node n : b.nodes) {
      b.format(n, clusterId);
    }
    b.startAll();
    return b;
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Properties config(Node n) {
    int rf = Math.min(3, nodes.size());
    String minIsr = Integer.toString(rf > 1 ? rf - 1 : 1);
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(n.id));
    p.put("controller.quorum.voters", nodes.stream().map(x -> x.id + "@localhost:" + x.controllerPort)
        .collect(Collectors.joining(",")));
    p.put("listeners", "PLAINTEXT://localhost:" + n.port + ",CONTROLLER://localhost:" + n.controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://localhost:" + n.port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", n.data.toString());
    p.put("num.partitions", "1");
    p.put("default.replication.factor", Integer.toString(rf));
    p.put("min.insync.replicas", minIsr);
    p.put("offsets.topic.replication.factor", Integer.toString(rf));
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", Integer.toString(rf));
    p.put("transaction.state.log.min.isr", minIsr);
    // Kafka's default is 50 partitions (150 replicas on a cluster), created on the first transaction.
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", Integer.toString(rf));
    p.put("share.coordinator.state.topic.min.isr", minIsr);
    p.put("group.initial.rebalance.delay.ms", "0");
    // The default dedupe buffer allocates 128 MiB and doubles the start time.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 << 20));
    p.put("auto.create.topics.enable", "true");
    if (nodes.size() > 1) {
      // A stopped node vanishes as a crashed one does: its leadership moves when the controller
      // stops hearing from it, not before. (It also lets the last nodes of a cluster stop without
      // waiting on a quorum that is already gone.)
      p.put("controlled.shutdown.enable", "false");
    }
    p.putAll(extra);
    return p;
  }

  /** The cluster id a node formatted before has (all share it), or a new one. */
  private String existingClusterId() {
    for (Node n : nodes) {
      Path meta = n.data.resolve("meta.properties");
      if (Files.exists(meta)) {
        Properties p = new Properties();
        try (var in = Files.newInputStream(meta)) {
          p.load(in);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + meta, e);
        }
        if (p.getProperty("cluster.id") != null) {
          return p.getProperty("cluster.id");
        }
      }
    }
    return Uuid.randomUuid().toString();
  }

  private void format(Node n, String clusterId) {
    if (Files.exists(n.data.resolve("meta.properties"))) {
      return;
    }
    try {
      new Formatter()
          .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
          .setNodeId(n.id)
          .setClusterId(clusterId)
          .addDirectory(n.data.toString())
          .setMetadataLogDirectory(n.data.toString())
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setControllerListenerName("CONTROLLER")
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format Kafka storage in " + n.data + ": " + e.getMessage(), e);
    }
  }

  private void startServer(Node n) {
    KafkaRaftServer s = new KafkaRaftServer(new KafkaConfig(config(n), false), Time.SYSTEM);
    s.startup();
    n.server = s;
  }

  /** Starts every stopped node, on threads of their own: each node's start waits for a quorum. */
  private void startAll() {
    List<Node> stopped = nodes.stream().filter(n -> n.server == null).toList();
    if (stopped.size() == 1) {
      startServer(stopped.get(0));
      return;
    }
    List<Thread> threads = new ArrayList<>();
    RuntimeException[] failure = {null};
    for (Node n : stopped) {
      Thread t = new Thread(() -> {
        try {
          startServer(n);
        } catch (RuntimeException e) {
          synchronized (failure) {
            failure[0] = failure[0] == null ? e : failure[0];
          }
        }
      }, "kafka-node-" + n.id + "-start");
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting Kafka nodes", e);
      }
    }
    if (failure[0] != null) {
      throw new IllegalStateException("a Kafka node did not start: " + failure[0].getMessage(), failure[0]);
    }
  }

  /** Every node's {@code localhost:port}, comma-separated, as clients take them. */
  public String bootstrapServers() {
    return nodes.stream().map(n -> "localhost:" + n.port).collect(Collectors.joining(","));
  }

  /** How many nodes the cluster has (1 for a single broker). */
  public int size() {
    return nodes.size();
  }

  /** {@code localhost:port} of node {@code id} (1 to {@link #size()}). */
  public String address(int id) {
    return "localhost:" + node(id).port;
  }

  /** Whether node {@code id} is running. */
  public boolean isRunning(int id) {
    return node(id).server != null;
  }

  public Path dataDir() {
    return dir;
  }

  private Node node(int id) {
    if (id < 1 || id > nodes.size()) {
      throw new IllegalArgumentException("no Kafka node " + id + ": the nodes are 1 to " + nodes.size());
    }
    return nodes.get(id - 1);
  }

  /**
   * Stops node {@code id}, keeping its data: on a cluster without a controlled shutdown, so the
   * other nodes see it vanish as a crashed one would (its files are still closed cleanly).
   */
  public void stopNode(int id) {
    Node n = node(id);
    if (n.server != null) {
      n.server.shutdown();
      n.server.awaitShutdown();
      n.server = null;
    }
  }

  /** Starts node {@code id} again on its own port and data; a running node is left alone. */
  public void startNode(int id) {
    Node n = node(id);
    if (n.server == null) {
      startServer(n);
    }
  }

  /**
   * Stops every node, keeping their data: a cluster's together, so that no node waits out a raft
   * shutdown for a quorum the others already left.
   */
  public void stop() {
    List<Thread> threads = new ArrayList<>();
    for (Node n : nodes) {
      if (n.server != null) {
        Thread t = new Thread(() -> stopNode(n.id), "kafka-node-" + n.id + "-stop");
        threads.add(t);
        t.start();
      }
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Stops and starts every node again on the same ports and data. */
  public void restart() {
    stop();
    startAll();
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
