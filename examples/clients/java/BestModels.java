// Subscribes to crema.checkpoints and writes each new best model of one model to a folder, as
// Caffe's snapshot files (<model>_iter_<N>.caffemodel, .solverstate, deploy.prototxt,
// <model>.contract.json) plus BEST (the newest best's line). "Best": the highest test/accuracy, or
// where a run has none the lowest test/loss, else train/loss.
//
//   java -cp crema-client.jar:kafka-clients.jar:crema-proto.jar:protobuf-java.jar:... \
//       BestModels.java localhost:9092 otto best-otto [--until-caught-up]
//
// Kafka security settings (kafka.client.* as the services take them) come from CREMA_KAFKA_CONFIG,
// a properties file, when set.
import crema.client.CheckpointQuery;
import crema.client.CheckpointRecord;
import crema.client.CremaClient;
import crema.client.Subscription;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

public class BestModels {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: BestModels BOOTSTRAP MODEL DIR [--until-caught-up]");
      System.exit(2);
    }
    String bootstrap = args[0];
    String model = args[1];
    Path dir = Path.of(args[2]);
    boolean follow = !(args.length > 3 && args[3].equals("--until-caught-up"));
    Properties kafka = new Properties();
    String config = System.getenv("CREMA_KAFKA_CONFIG");
    if (config != null) {
      try (InputStream in = Files.newInputStream(Path.of(config))) {
        kafka.load(in);
      }
    }
    CheckpointQuery query = CheckpointQuery.builder().model(model).follow(follow).build();
    try (CremaClient crema = CremaClient.builder().bootstrapServers(bootstrap)
        .kafkaProperties(Map.copyOf((Map<String, ?>) (Map) kafka)).clientId("best-models").build();
        Subscription<CheckpointRecord> checkpoints = crema.checkpoints(query, why -> System.err.println("skipped " + why))) {
      Runtime.getRuntime().addShutdownHook(new Thread(checkpoints::close));
      double best = Double.NEGATIVE_INFINITY;
      while (!checkpoints.isDone()) {
        CheckpointRecord c = checkpoints.next(Duration.ofSeconds(1));
        if (c == null) {
          continue;
        }
        double score = score(c.metrics());
        if (score > best) {
          best = score;
          c.writeTo(dir);
          Files.writeString(dir.resolve("BEST"), c + "\n");
          System.out.println("best: " + c);
        }
      }
    }
  }

  /** Higher is better. */
  static double score(Map<String, Double> m) {
    if (m.containsKey("test/accuracy")) {
      return m.get("test/accuracy");
    }
    if (m.containsKey("test/loss")) {
      return -m.get("test/loss");
    }
    return m.containsKey("train/loss") ? -m.get("train/loss") : Double.NEGATIVE_INFINITY;
  }
}
