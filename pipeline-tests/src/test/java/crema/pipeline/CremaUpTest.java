package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.cli.Crema;
import crema.engine.LogNumber;
import crema.engine.Net;
import crema.engine.data.LmdbWriter;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import io.micronaut.json.JsonMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code crema up} (the README's main command) from start to served models, and the pipeline's
 * word kept on it: the served model is the trained model. A client sends the CSV it ingested, with
 * no options, and gets what {@code crema test} and {@code crema predict} give on the same
 * checkpoint, under the dataset's label names.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CremaUpTest {
  static final int OTTO_ITER = 1000;
  static final String DIGITS_SOLVER = """
      type: "Adam" base_lr: 0.001 momentum: 0.9 momentum2: 0.999 lr_policy: "fixed"
      weight_decay: 0.0001 display: 500 max_iter: 2000 snapshot: 1000 random_seed: 3
      test_iter: 1 test_interval: 1000
      """;
  static final JsonMapper JSON = JsonMapper.createDefault();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir
  static Path tmp;
  static Process up;
  static Path log;
  static String bootstrap;
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @BeforeAll
  static void start() throws Exception {
    Path jar = REPO.resolve("up/target/crema-up.jar");
    log = tmp.resolve("up.log");
    up = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-jar", jar.toString(), "--rows", "3000",
        "--max-iter", Integer.toString(OTTO_ITER), "--kafka-port", "0", "--data-dir", tmp.resolve("up").toString())
        .directory(REPO.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.currentTimeMillis() + 300_000;
    while (!Files.readString(log).contains("Ctrl-C stops everything.")) {
      assertTrue(up.isAlive() && System.currentTimeMillis() < deadline, Files.readString(log));
      Thread.sleep(300);
    }
    Matcher m = Pattern.compile("Kafka:\\s+(\\S+)").matcher(Files.readString(log));
    assertTrue(m.find(), Files.readString(log));
    bootstrap = m.group(1);
  }

  @AfterAll
  static void stop() throws Exception {
    if (up != null) {
      up.destroy();
      assertTrue(up.waitFor(60, TimeUnit.SECONDS), "crema up stops on SIGTERM");
      Files.copy(log, Path.of("target/crema-up-test.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static HttpResponse<String> send(String method, String url, String type, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
        .timeout(java.time.Duration.ofSeconds(120))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(HttpResponse<String> r) throws Exception {
    return JSON.readValue(r.body(), Map.class);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> get(String url) throws Exception {
    HttpResponse<String> r = send("GET", url, "application/json", null);
    return r.statusCode() == 200 ? json(r) : Map.of();
  }

  static Map<String, Object> awaitServed(String model, int iteration) throws Exception {
    long deadline = System.currentTimeMillis() + 480_000;
    while (System.currentTimeMillis() < deadline) {
      Map<String, Object> m = get("http://localhost:8083/v1/models/" + model);
      if (m.get("iteration") instanceof Number n && n.intValue() == iteration) {
        return m;
      }
      assertTrue(up.isAlive(), Files.readString(log));
      Thread.sleep(500);
    }
    throw new AssertionError(model + " was not served at iteration " + iteration + "\n" + Files.readString(log));
  }

  static Checkpoint checkpoint(String topic, String model, int iteration) throws Exception {
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(bootstrap, topic)) {
      Checkpoint c = Checkpoint.parseFrom(r.value());
      if (c.getModel().equals(model) && c.getIteration() == iteration) {
        return c;
      }
    }
    throw new AssertionError("no checkpoint of " + model + " at " + iteration + " on " + topic);
  }

  /**
   * {@code crema test} on a checkpoint: its train/test net with the Kafka source of the TEST Data
   * layer turned into an LMDB of the same Datums, its weights, {@code test_iter} batches.
   */
  static Map<String, Float> crematest(Checkpoint c, String testTopic, int iterations) throws Exception {
    Path lmdb = tmp.resolve("lmdb-" + c.getModel());
    try (LmdbWriter w = new LmdbWriter(lmdb)) {
      int i = 0;
      for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(bootstrap, testTopic)) {
        w.put(String.format("%08d", i++), r.value());
      }
    }
    NetParameter net = Prototxt.parseNet(c.getNetPrototxt().replace("\"" + testTopic + "\"", "\"" + lmdb + "\"")
        .replace("backend: KAFKA", "backend: LMDB"), "net");
    Map<String, Float> scores = new LinkedHashMap<>();
    try (Net test = new Net(net, Net.state(net, Phase.TEST, 0, List.of()))) {
      test.copyTrainedLayersFrom(BinaryProto.parseNet(c.getCaffemodel().toByteArray(), "checkpoint"));
      for (int i = 0; i < iterations; i++) {
        test.forward();
        for (String out : test.outputNames()) {
          scores.merge(out, test.blob(out).data()[0] / iterations, Float::sum);
        }
      }
    }
    return scores;
  }

  /**
   * The served model against the trainer's test, {@code crema test} and {@code crema predict} on
   * the same checkpoint, for the CSV of the held-out rows exactly as ingested.
   */
  @SuppressWarnings("unchecked")
  static void assertServedIsTrained(String model, int iteration, String heldOutCsv, String testTopic,
      List<String> labelNames, List<String> ids) throws Exception {
    Checkpoint c = checkpoint("crema.checkpoints", model, iteration);
    HttpResponse<String> r = send("POST", "http://localhost:8083/v1/models/" + model + ":predict", "text/csv",
        heldOutCsv);
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> reply = json(r);
    List<Map<String, Object>> preds = (List<Map<String, Object>>) reply.get("predictions");
    assertEquals(ids.size(), preds.size());
    assertEquals(ids, preds.stream().map(p -> p.get("id")).toList(), "the id column is echoed");
    assertEquals(labelNames, new ArrayList<>(((Map<String, Object>) preds.get(0).get("probabilities")).keySet()),
        "the dataset's label names");
    double served = ((Number) reply.get("accuracy")).doubleValue();
    double trained = c.getMetricsMap().get("test/accuracy");
    assertEquals(trained, served, 1e-6, model + ": served accuracy equals the checkpoint's test accuracy");
    Map<String, Float> tested = crematest(c, testTopic, 1);
    assertEquals(tested.get("accuracy"), served, 1e-6, model + ": served accuracy equals crema test's");
    assertEquals(tested.get("loss"), ((Number) reply.get("loss")).doubleValue(), 1e-5, model + ": and the loss");
    System.out.printf("%s: served accuracy %.6f on %d held-out rows = trainer's %.6f = crema test's %.6f%n", model,
        served, preds.size(), trained, tested.get("accuracy"));

    // crema predict, given the checkpoint, reads the same CSV with no options and agrees to 1e-6.
    Path cp = tmp.resolve(model + ".checkpoint");
    Files.write(cp, c.toByteArray());
    Path in = tmp.resolve(model + "-heldout.csv");
    Files.writeString(in, heldOutCsv);
    Path out = tmp.resolve(model + "-predicted.csv");
    assertEquals(0, Crema.run("predict", "-checkpoint", cp.toString(), "-input", in.toString(), "-output",
        out.toString()));
    List<String> lines = Files.readAllLines(out);
    assertEquals("id," + String.join(",", labelNames), lines.get(0));
    for (int i = 0; i < preds.size(); i++) {
      String[] f = lines.get(i + 1).split(",");
      assertEquals(ids.get(i), f[0]);
      Map<String, Number> p = (Map<String, Number>) preds.get(i).get("probabilities");
      for (int k = 0; k < labelNames.size(); k++) {
        assertEquals(Double.parseDouble(f[k + 1]), p.get(labelNames.get(k)).doubleValue(), 1e-6,
            model + " row " + i + " " + labelNames.get(k));
      }
    }
  }

  /** crema up's one console line format (up's logback.xml): time, level, logger, message. */
  static final Pattern CONSOLE_LINE = Pattern.compile(
      "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \\S+ - .*");

  /**
   * Issue 14's console: the Otto run, from start to its last checkpoint served, is a short summary
   * then the progress, every line in the one format: the rows ingested, a line per test with the
   * iteration, loss and test accuracy (the accuracy the checkpoint carries), each checkpoint served.
   */
  static void assertOttoConsole(Checkpoint last) throws Exception {
    String served = "serving otto from checkpoint at iteration " + OTTO_ITER;
    while (!Files.readString(log).contains(served)) {
      assertTrue(up.isAlive(), Files.readString(log));
      Thread.sleep(100);
    }
    String out = Files.readString(log);
    List<String> console = out.substring(0, out.indexOf('\n', out.indexOf(served)) + 1).lines().toList();
    assertTrue(console.size() < 60, console.size() + " lines:\n" + out);
    for (String line : console) {
      assertTrue(CONSOLE_LINE.matcher(line).matches(), "not the one format: " + line + "\n" + out);
    }
    assertTrue(out.contains(" crema.up - ready."), out);
    assertTrue(out.contains("predict:    curl -X POST http://localhost:8083/v1/models/otto:predict"), out);
    assertTrue(out.contains("otto: ingested 3000 rows from otto-train.csv ("), out);
    // A test every OTTO_ITER / 2 iterations from 0 (crema up's solver), each on one line.
    Pattern test = Pattern.compile("otto: iteration (\\d+)(, loss [0-9.e+-]+)?, test accuracy ([0-9.e+-]+)");
    List<Integer> tested = new ArrayList<>();
    String lastAccuracy = null;
    for (String line : console) {
      Matcher m = test.matcher(line);
      if (m.find()) {
        tested.add(Integer.parseInt(m.group(1)));
        assertEquals(m.group(1).equals("0"), m.group(2) == null, "a loss once training ran: " + line);
        lastAccuracy = m.group(3);
      }
    }
    assertEquals(List.of(0, OTTO_ITER / 2, OTTO_ITER), tested, out);
    assertEquals(LogNumber.format(last.getMetricsMap().get("test/accuracy")), lastAccuracy,
        "the console's test accuracy is the checkpoint's");
    assertTrue(out.contains("serving otto from checkpoint at iteration " + OTTO_ITER / 2), out);
    System.out.println("crema up's console for the Otto run: " + console.size() + " lines");
  }

  @Test
  @Order(1)
  void upStreamsOttoInTrainsAndServesWhatItTrained() throws Exception {
    awaitServed("otto", OTTO_ITER);
    assertOttoConsole(checkpoint("crema.checkpoints", "otto", OTTO_ITER));
    assertTrue(send("GET", "http://localhost:8080/api/overview", "application/json", null).body()
        .contains("\"model\":\"otto\""), "the dashboard shows the otto run");

    // The held-out split is rows of the ingested train.csv: send those lines, header and all.
    List<String> train = Files.readAllLines(tmp.resolve("up/otto/train.csv"));
    Map<String, String> byId = new HashMap<>();
    for (String line : train.subList(1, train.size())) {
      byId.put(line.substring(0, line.indexOf(',')), line);
    }
    List<String> ids = new ArrayList<>();
    StringBuilder csv = new StringBuilder(train.get(0)).append('\n');
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(bootstrap, "crema.datums.otto.test")) {
      ids.add(r.key());
      csv.append(byId.get(r.key())).append('\n');
    }
    List<String> classes = new ArrayList<>();
    for (int i = 1; i <= 9; i++) {
      classes.add("Class_" + i);
    }
    assertServedIsTrained("otto", OTTO_ITER, csv.toString(), "crema.datums.otto.test", classes, ids);
  }

  /** The UCI digits with an id column and labels d0..d9, split 80/20 in file order. */
  static String[] digitsFiles() throws Exception {
    String[] lines = PipelineSupport.digitsCsv().split("\n");
    StringBuilder header = new StringBuilder("id,");
    header.append(lines[0].substring(0, lines[0].lastIndexOf(','))).append(",digit");
    StringBuilder train = new StringBuilder(header).append('\n');
    // The test file has its columns in another order: the id last, the label first.
    List<String> cols = new ArrayList<>(List.of(header.toString().split(",")));
    List<String> reordered = new ArrayList<>();
    reordered.add("digit");
    for (int i = cols.size() - 2; i >= 1; i--) {
      reordered.add(cols.get(i));
    }
    reordered.add("id");
    StringBuilder test = new StringBuilder(String.join(",", reordered)).append('\n');
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].split(",");
      Map<String, String> row = new HashMap<>();
      row.put("id", "r" + i);
      for (int j = 0; j < 64; j++) {
        row.put("p" + j, f[j]);
      }
      row.put("digit", "d" + f[64]);
      List<String> order = i % 5 == 0 ? reordered : cols;
      StringBuilder line = new StringBuilder();
      for (String c : order) {
        line.append(line.length() == 0 ? "" : ",").append(row.get(c));
      }
      (i % 5 == 0 ? test : train).append(line).append('\n');
    }
    return new String[] {train.toString(), test.toString()};
  }

  static String digitsNet(int testBatch) {
    String data = """
        layer { name: "data" type: "Data" top: "data" top: "label" include { phase: %s }
          transform_param { scale: 0.0625 }
          data_param { source: "crema.datums.udigits.%s" batch_size: %d backend: KAFKA } }
        """;
    return "name: \"DigitsMLP\"\n" + data.formatted("TRAIN", "train", 32) + data.formatted("TEST", "test", testBatch)
        + """
        layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          inner_product_param { num_output: 128 weight_filler { type: "msra" } bias_filler { type: "constant" } } }
        layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "drop1" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.2 } }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
        """;
  }

  @Test
  @Order(2)
  @SuppressWarnings("unchecked")
  void digitsIngestedByTwoRequestsServeWhatTheyTrained() throws Exception {
    String[] files = digitsFiles();
    String ingest = "http://localhost:8081/v1/datasets/udigits/rows?label=digit&id=id&split=";
    HttpResponse<String> a = send("POST", ingest + "train", "text/csv", files[0]);
    HttpResponse<String> b = send("POST", ingest + "test", "text/csv", files[1]);
    assertEquals(200, a.statusCode(), a.body());
    assertEquals(200, b.statusCode(), b.body());
    int trainRows = ((Number) json(a).get("accepted")).intValue();
    int testRows = ((Number) json(b).get("accepted")).intValue();
    assertEquals(1797, trainRows + testRows);

    // One schema for the dataset: both splits, with the counts of both.
    long deadline = System.currentTimeMillis() + 30_000;
    Map<String, Object> view = Map.of();
    while (System.currentTimeMillis() < deadline) {
      for (Map<String, Object> m : JSON.readValue(send("GET", "http://localhost:8080/api/datasets",
          "application/json", null).body(), io.micronaut.core.type.Argument.listOf(
              io.micronaut.core.type.Argument.mapOf(String.class, Object.class)))) {
        if (m.get("dataset").equals("udigits")) {
          view = m;
        }
      }
      if (view.get("countsBySplit") instanceof Map<?, ?> c && c.size() == 2) {
        break;
      }
      Thread.sleep(300);
    }
    Map<String, List<Number>> counts = (Map<String, List<Number>>) view.get("countsBySplit");
    assertEquals(trainRows, counts.get("train").stream().mapToLong(Number::longValue).sum(), view.toString());
    assertEquals(testRows, counts.get("test").stream().mapToLong(Number::longValue).sum(), view.toString());

    // A request that contradicts the dataset is refused, naming the difference.
    String header = files[0].substring(0, files[0].indexOf('\n'));
    String row = files[0].split("\n")[1];
    for (String[] bad : new String[][] {
        {ingest + "test", header.replace(",p63,", ",q63,") + "\n" + row + "\n", "q63"},
        {ingest + "test&log1p=true", files[0], "log1p"},
        {ingest + "test&labels=a,b", files[0], "labels"}}) {
      HttpResponse<String> r = send("POST", bad[0], "text/csv", bad[1]);
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(json(r).get("error").toString().contains(bad[2]), r.body());
    }

    Map<String, Object> job = json(send("POST", "http://localhost:8082/v1/jobs", "application/json",
        JSON.writeValueAsString(Map.of("model", "udigits", "solver", DIGITS_SOLVER, "net", digitsNet(testRows)))));
    awaitServed("udigits", 2000);
    assertEquals("FINISHED", get("http://localhost:8082/v1/jobs/" + job.get("id")).get("state"));
    List<String> ids = new ArrayList<>();
    for (String line : files[1].split("\n")) {
      ids.add(line.substring(line.lastIndexOf(',') + 1));
    }
    // The dataset's label names, in the order ingest met them.
    List<String> labels = (List<String>) view.get("labels");
    assertEquals(10, labels.size());
    assertTrue(labels.stream().allMatch(l -> l.matches("d[0-9]")), labels.toString());
    // The test file, exactly as ingested (columns in another order than the train file's).
    assertServedIsTrained("udigits", 2000, files[1], "crema.datums.udigits.test", labels, ids.subList(1, ids.size()));
  }

  @Test
  @Order(3)
  void aJobUnderCremaUpEqualsTheSameJobInATrainerOfItsOwn() throws Exception {
    // The digits job trained beside inference and the dashboard (which build nets in the same
    // process) against the same job in a trainer process of its own, on topics of its own.
    Checkpoint shared = checkpoint("crema.checkpoints", "udigits", 2000);
    try (ServiceProcess solo = new ServiceProcess("trainer", bootstrap, tmp,
        "-crema.trainer.jobs-topic=solo.jobs", "-crema.trainer.checkpoint-topic=solo.checkpoints",
        "-crema.trainer.events-topic=solo.train-events").start()) {
      int testRows = PipelineSupport.readAll(bootstrap, "crema.datums.udigits.test").size();
      send("POST", solo.url() + "/v1/jobs", "application/json",
          JSON.writeValueAsString(Map.of("model", "udigits", "solver", DIGITS_SOLVER, "net", digitsNet(testRows))));
      long deadline = System.currentTimeMillis() + 300_000;
      Checkpoint alone = null;
      while (alone == null && System.currentTimeMillis() < deadline) {
        try {
          alone = checkpoint("solo.checkpoints", "udigits", 2000);
        } catch (AssertionError | RuntimeException e) {
          Thread.sleep(500);
        }
      }
      assertTrue(alone != null, solo.log());
      assertArrayEquals(shared.getCaffemodel().toByteArray(), alone.getCaffemodel().toByteArray(),
          "the same job gives the same weights, whatever else the process does");
    }
  }

  /**
   * Issue 17 under crema up: {@code crema checkpoints --model otto --out DIR} writes every
   * checkpoint of the Otto run, and the newest caffemodel with deploy.prototxt and the contract
   * JSON predicts, through {@code crema predict}, what the inference service serves (1e-6).
   */
  @Test
  @Order(4)
  @SuppressWarnings("unchecked")
  void cremaCheckpointsWritesTheOttoRunAndItsFilesPredictWhatIsServed() throws Exception {
    awaitServed("otto", OTTO_ITER);
    Path out = tmp.resolve("otto-checkpoints");
    assertEquals(0, Crema.run("checkpoints", "--bootstrap-server", bootstrap, "--model", "otto", "--out",
        out.toString()));
    List<Checkpoint> otto = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(bootstrap, "crema.checkpoints")) {
      Checkpoint c = Checkpoint.parseFrom(r.value());
      if (c.getModel().equals("otto")) {
        otto.add(c);
      }
    }
    assertTrue(!otto.isEmpty());
    Checkpoint newest = otto.get(otto.size() - 1);
    for (Checkpoint c : otto) {
      Path dir = out.resolve(c.getRun());
      assertArrayEquals(c.getCaffemodel().toByteArray(),
          Files.readAllBytes(dir.resolve("otto_iter_" + c.getIteration() + ".caffemodel")));
      assertArrayEquals(c.getSolverstate().toByteArray(),
          Files.readAllBytes(dir.resolve("otto_iter_" + c.getIteration() + ".solverstate")));
    }
    Path dir = out.resolve(newest.getRun());
    List<String> train = Files.readAllLines(tmp.resolve("up/otto/train.csv"));
    String csv = String.join("\n", train.subList(0, 201)) + "\n";
    Path in = tmp.resolve("otto-rows.csv");
    Files.writeString(in, csv);
    Path probs = tmp.resolve("otto-files-predicted.csv");
    assertEquals(0, Crema.run("predict", "-model", dir.resolve("deploy.prototxt").toString(), "-weights",
        dir.resolve("otto_iter_" + newest.getIteration() + ".caffemodel").toString(), "-contract",
        dir.resolve("otto.contract.json").toString(), "-input", in.toString(), "-output", probs.toString()));
    HttpResponse<String> r = send("POST", "http://localhost:8083/v1/models/otto:predict", "text/csv", csv);
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> reply = json(r);
    assertEquals(newest.getIteration(), ((Number) reply.get("iteration")).intValue());
    List<Map<String, Object>> preds = (List<Map<String, Object>>) reply.get("predictions");
    List<String> lines = Files.readAllLines(probs);
    List<String> labels = List.of(lines.get(0).split(",")).subList(1, lines.get(0).split(",").length);
    assertEquals(preds.size(), lines.size() - 1);
    for (int i = 0; i < preds.size(); i++) {
      String[] f = lines.get(i + 1).split(",");
      Map<String, Number> p = (Map<String, Number>) preds.get(i).get("probabilities");
      for (int k = 0; k < labels.size(); k++) {
        assertEquals(p.get(labels.get(k)).doubleValue(), Double.parseDouble(f[k + 1]), 1e-6,
            "otto row " + i + " " + labels.get(k));
      }
    }
  }
}
