package crema.cli;

import crema.client.CheckpointQuery;
import crema.client.CheckpointRecord;
import crema.client.CremaClient;
import crema.client.Subscription;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema checkpoints}: the checkpoints on {@code crema.checkpoints} of any cluster, each
 * verified (sha256) and written as Caffe's snapshot files, or listed one line each. With
 * {@code --follow} it waits for new ones until Ctrl-C.
 */
@Command(name = "checkpoints", description = "Take checkpoints out of crema.checkpoints: list them, or write each"
    + " as <model>_iter_<N>.caffemodel, .solverstate, deploy.prototxt and <model>.contract.json.")
final class CheckpointsCommand implements Callable<Integer> {
  @Option(names = {"--bootstrap-server", "-bootstrap-server"}, defaultValue = "localhost:9092",
      description = "The Kafka cluster (host:port,...). Default localhost:9092.")
  String bootstrap;

  @Option(names = {"--kafka-config", "-kafka-config"}, description = "A properties file of Kafka client settings"
      + " (security.protocol, ssl.*, sasl.*; a kafka.client. prefix, as the services' configuration has it, is"
      + " dropped).")
  Path kafkaConfig;

  @Option(names = {"-X", "--kafka-client"}, description = "One Kafka client setting, key=value (repeatable).")
  Map<String, String> kafkaSettings = new LinkedHashMap<>();

  @Option(names = {"--topic", "-topic"}, defaultValue = CremaClient.CHECKPOINTS, description = "Default crema.checkpoints.")
  String topic;

  @Option(names = {"--model", "-model"}, description = "Only this model's checkpoints.")
  String model;

  @Option(names = {"--run", "-run"}, description = "Only this run's (a job id).")
  String run;

  @Option(names = {"--from-iteration", "-from-iteration"}, defaultValue = "0",
      description = "Only checkpoints at this iteration or later.")
  int fromIteration;

  @Option(names = {"--follow", "-follow", "-f"}, description = "Once caught up, wait for new checkpoints (Ctrl-C stops).")
  boolean follow;

  @Option(names = {"--out", "-out"}, description = "Write each checkpoint's files into OUT/<run>/; without it, print"
      + " one line per checkpoint.")
  Path out;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> settings = new LinkedHashMap<>();
    if (kafkaConfig != null) {
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(kafkaConfig)) {
        p.load(in);
      }
      p.forEach((k, v) -> settings.put(k.toString(), v));
    }
    settings.putAll(kafkaSettings);
    CheckpointQuery query = CheckpointQuery.builder().model(model).run(run).fromIteration(fromIteration)
        .follow(follow).build();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    // A fresh JVM loads the protobuf, digest and formatting classes on its first record: doing it
    // now keeps the first --follow line as prompt as the others (it came ~0.8 s late otherwise).
    CheckpointRecord.verify(crema.proto.Checkpoint.newBuilder().setSha256(CheckpointRecord.sha256(new byte[0],
        new byte[0])).build().toByteArray(), 0, 0).toString();
    CountDownLatch finished = new CountDownLatch(1);
    long count = 0;
    try (CremaClient crema = CremaClient.builder().bootstrapServers(bootstrap).kafkaProperties(settings)
        .clientId("crema-checkpoints").build();
        Subscription<CheckpointRecord> s = crema.checkpoints(topic, query,
            reason -> stderr.println("crema checkpoints: skipped " + reason))) {
      // Ctrl-C: the subscription ends, what was being written is finished, the command returns 0.
      Thread hook = new Thread(() -> {
        s.close();
        try {
          finished.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "crema-checkpoints-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      // Ctrl-C (SIGINT) ends the subscription and the command exits 0; SIGTERM goes through the hook.
      try {
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> s.close());
      } catch (IllegalArgumentException e) {
        // The JVM keeps SIGINT for itself here: the shutdown hook still ends the subscription.
      }
      Progress progress = new Progress(stderr);
      try {
        while (!s.isDone()) {
          CheckpointRecord c = s.next(Duration.ofMillis(250));
          if (c != null) {
            progress.clear();
            count++;
            if (out != null) {
              CheckpointRecord.SnapshotFiles f = c.writeTo(out.resolve(safe(c.run())));
              stdout.println(c + " " + f.caffemodel());
            } else {
              stdout.println(c);
            }
            stdout.flush();
          } else if (!s.caughtUp()) {
            progress.show(s.recordsRead(), s.recordsAtStart());
          }
          if (s.caughtUp()) {
            progress.done(count, follow);
          }
        }
        progress.clear();
      } finally {
        finished.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // Shutting down: the hook is running.
        }
      }
    }
    return 0;
  }

  /** A run id as a folder name. */
  private static String safe(String run) {
    String s = run.replaceAll("[^A-Za-z0-9._-]", "_");
    return s.isEmpty() || s.startsWith(".") ? "run" + s : s;
  }

  /** "catching up: 12/40 records" on stderr, overwritten in place, while the topic is read to its start-time end. */
  private static final class Progress {
    private final PrintStream err;
    private long last;
    private boolean shown;
    private boolean announced;

    Progress(PrintStream err) {
      this.err = err;
    }

    void show(long read, long total) {
      long now = System.currentTimeMillis();
      if (now - last >= 200) {
        last = now;
        err.print("\rcatching up: " + read + "/" + total + " records");
        err.flush();
        shown = true;
      }
    }

    void clear() {
      if (shown) {
        err.print("\r\033[K");
        err.flush();
        shown = false;
      }
    }

    void done(long count, boolean follow) {
      if (!announced) {
        announced = true;
        clear();
        err.println("caught up: " + count + " checkpoint" + (count == 1 ? "" : "s") + (follow ? "; following (Ctrl-C stops)" : ""));
        err.flush();
      }
    }
  }

}
