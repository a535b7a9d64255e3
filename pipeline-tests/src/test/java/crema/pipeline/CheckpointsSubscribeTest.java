package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.EmbeddedBroker;
import crema.cli.Crema;
import crema.client.CheckpointQuery;
import crema.client.CheckpointRecord;
import crema.client.CremaClient;
import crema.client.IngestRequest;
import crema.client.JobInfo;
import crema.client.JobSpec;
import crema.client.Predictions;
import crema.client.Subscription;
import crema.proto.PredictResult;
import crema.proto.Row;
import crema.proto.TrainEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trained models out of Crema, as files, from any client (issue 17), on a real broker with the
 * real services as processes: {@code crema checkpoints} following a run and writing files, the
 * inference service's checkpoint list, downloads and watch stream (behind its API token), the Java
 * client doing a whole workflow, and both examples.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CheckpointsSubscribeTest {
  static final String TOKEN = "subscribe-token";
  static final String MODEL = "cdigits";
  static final Path REPO = Path.of("").toAbsolutePath().getParent();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir
  static Path tmp;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static CremaClient api;
  static String runId;
  static List<CheckpointRecord> checkpoints;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp, "-crema.api.token=" + TOKEN).start();
    api = CremaClient.builder().bootstrapServers(broker.bootstrapServers()).ingest(URI.create(ingest.url()))
        .trainer(URI.create(trainer.url())).inference(URI.create(inference.url())).apiToken(TOKEN).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (api != null) {
      api.close();
    }
    for (ServiceProcess s : new ServiceProcess[] {inference, trainer, ingest}) {
      if (s != null) {
        s.close();
      }
    }
    if (broker != null) {
      broker.close();
    }
  }

  static String net() {
    String data = """
        layer { name: "data" type: "Data" top: "data" top: "label" include { phase: %s }
          transform_param { scale: 0.0625 }
          data_param { source: "crema.datums.cdigits.%s" batch_size: %d backend: KAFKA } }
        """;
    return "name: \"CDigits\"\n" + data.formatted("TRAIN", "train", 32) + data.formatted("TEST", "test", 100) + """
        layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          inner_product_param { num_output: 32 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
        """;
  }

  static List<String> java(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static HttpResponse<byte[]> get(String path, String token) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(inference.url() + path)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Reads a watch stream on a thread: each event's id into {@code ids}, until {@code limit} events, then disconnects. */
  static Thread watch(String lastEventId, int limit, List<String> ids) {
    Thread t = new Thread(() -> {
      HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(inference.url() + "/v1/models/" + MODEL
          + "/checkpoints:watch")).header("Authorization", "Bearer " + TOKEN).header("Accept", "text/event-stream");
      if (lastEventId != null) {
        r.header("Last-Event-ID", lastEventId);
      }
      try {
        HttpResponse<Stream<String>> resp = HTTP.send(r.build(), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = resp.body()) {
          int[] n = {0};
          lines.takeWhile(l -> n[0] < limit).forEach(l -> {
            if (l.startsWith("id:")) {
              ids.add(l.substring(3).strip());
              n[0]++;
            }
          });
        }
      } catch (Exception e) {
        ids.add("error: " + e);
      }
    }, "watch");
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  @Order(1)
  void aRunIsFollowedByTheCliTheWatchStreamAndTheClientEachCheckpointOnce() throws Exception {
    var ingested = api.ingest(IngestRequest.builder(MODEL).csv(PipelineSupport.digitsCsv()).label("digit")
        .testFraction(0.2).seed(3).build());
    assertEquals(1797, ingested.accepted() + ingested.rejected(), ingested.reply().toString());

    // crema checkpoints --follow, as a user runs it, caught up before the run starts.
    Path cliLog = tmp.resolve("follow.log");
    Process cli = new ProcessBuilder(java(Crema.class.getName(), "checkpoints", "--follow", "--bootstrap-server",
        broker.bootstrapServers(), "--model", MODEL)).redirectErrorStream(true).start();
    List<String[]> lines = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = in.readLine()) != null;) {
          lines.add(new String[] {l, Long.toString(System.currentTimeMillis())});
          Files.writeString(cliLog, l + "\n", java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.APPEND);
        }
      } catch (java.io.IOException e) {
        // The process ended.
      }
    });
    reader.start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (lines.stream().noneMatch(l -> l[0].contains("caught up"))) {
      assertTrue(cli.isAlive() && System.currentTimeMillis() < deadline, String.join("\n",
          lines.stream().map(l -> l[0]).toList()));
      Thread.sleep(100);
    }

    // A watch stream that drops after two checkpoints, and a client subscription following the topic.
    List<String> firstIds = new CopyOnWriteArrayList<>();
    Thread firstWatch = watch(null, 2, firstIds);
    Subscription<CheckpointRecord> following = api.checkpoints(CheckpointQuery.builder().model(MODEL).follow(true)
        .build());
    Thread.sleep(1000);

    JobInfo job = api.submit(JobSpec.builder().model(MODEL).net(net()).solver("""
        type: "SGD" base_lr: 0.05 momentum: 0.9 lr_policy: "fixed" display: 100 max_iter: 500 snapshot: 100
        random_seed: 7 test_iter: 1 test_interval: 100
        """).build());
    runId = job.id();
    List<TrainEvent> events = new ArrayList<>();
    try (Subscription<TrainEvent> ev = api.jobEvents(runId)) {
      long until = System.currentTimeMillis() + 300_000;
      while (System.currentTimeMillis() < until && (events.isEmpty()
          || !List.of("FINISHED", "FAILED", "STOPPED").contains(events.get(events.size() - 1).getState()))) {
        TrainEvent e = ev.next(Duration.ofSeconds(1));
        if (e != null) {
          events.add(e);
        }
      }
    }
    assertEquals("FINISHED", events.get(events.size() - 1).getState(), events.toString());
    assertTrue(api.job(runId).isFinal());

    // Every checkpoint of the run, read by the client to the topic's end.
    checkpoints = new ArrayList<>();
    try (Subscription<CheckpointRecord> all = api.checkpoints(CheckpointQuery.builder().model(MODEL).run(runId)
        .build())) {
      for (CheckpointRecord c; (c = all.next(Duration.ofSeconds(30))) != null;) {
        checkpoints.add(c);
      }
    }
    assertTrue(checkpoints.size() >= 5, checkpoints.toString());
    List<String> expectedIds = checkpoints.stream().map(c -> c.partition() + "-" + c.offset()).toList();

    // The following subscription saw each once.
    List<CheckpointRecord> followed = new ArrayList<>();
    while (followed.size() < checkpoints.size()) {
      CheckpointRecord c = following.next(Duration.ofSeconds(30));
      assertTrue(c != null, "the follower has " + followed.size() + " of " + checkpoints.size());
      followed.add(c);
    }
    assertEquals(null, following.next(Duration.ofMillis(500)));
    following.close();
    assertEquals(checkpoints.stream().map(CheckpointRecord::sha256).toList(),
        followed.stream().map(CheckpointRecord::sha256).toList());

    // The watch stream: two events, a reconnect from Last-Event-ID, the rest, each exactly once.
    firstWatch.join(60_000);
    assertEquals(2, firstIds.size(), firstIds.toString());
    List<String> restIds = new CopyOnWriteArrayList<>();
    Thread rest = watch(firstIds.get(1), checkpoints.size() - 2, restIds);
    rest.join(60_000);
    List<String> watched = new ArrayList<>(firstIds);
    watched.addAll(restIds);
    assertEquals(expectedIds, watched, "every checkpoint of the run exactly once, across a reconnect");

    // The CLI printed one line per checkpoint, each within a second of the checkpoint's creation.
    deadline = System.currentTimeMillis() + 30_000;
    while (lines.stream().filter(l -> l[0].startsWith(MODEL + " run=")).count() < checkpoints.size()
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    List<String[]> printed = lines.stream().filter(l -> l[0].startsWith(MODEL + " run=")).toList();
    assertEquals(checkpoints.stream().map(CheckpointRecord::toString).toList(),
        printed.stream().map(l -> l[0]).toList());
    for (int i = 0; i < printed.size(); i++) {
      System.out.println("printed at " + printed.get(i)[1] + ": " + printed.get(i)[0]);
    }
    for (int i = 0; i < printed.size(); i++) {
      long late = Long.parseLong(printed.get(i)[1]) - checkpoints.get(i).checkpoint().getCreatedMs();
      System.out.printf("crema checkpoints --follow: iteration %d printed %d ms after it was made%n",
          checkpoints.get(i).iteration(), late);
      assertTrue(late < 1000, "iteration " + checkpoints.get(i).iteration() + " printed " + late + " ms late");
    }
    // Ctrl-C: a clean stop.
    new ProcessBuilder("kill", "-INT", Long.toString(cli.pid())).start().waitFor();
    assertTrue(cli.waitFor(30, TimeUnit.SECONDS), "crema checkpoints --follow stops on Ctrl-C");
    reader.join(10_000);
    assertEquals(0, cli.exitValue(), Files.readString(cliLog));
    assertFalse(Files.readString(cliLog).contains("Exception"), Files.readString(cliLog));
  }

  @Test
  @Order(2)
  void theCliFilesAreTheHttpDownloadsAndPredictWhatInferenceServes() throws Exception {
    Path out = tmp.resolve("out");
    assertEquals(0, Crema.run("checkpoints", "--bootstrap-server", broker.bootstrapServers(), "--model", MODEL,
        "--out", out.toString()));
    Path dir = out.resolve(runId);
    assertEquals(401, get("/v1/models/" + MODEL + "/checkpoints", null).statusCode(), "the API token applies");
    HttpResponse<byte[]> list = get("/v1/models/" + MODEL + "/checkpoints?run=" + runId, TOKEN);
    assertEquals(200, list.statusCode());
    List<?> listed = (List<?>) crema.client.Json.parse(new String(list.body(), StandardCharsets.UTF_8));
    assertEquals(checkpoints.size(), listed.size());
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (int i = 0; i < checkpoints.size(); i++) {
      CheckpointRecord c = checkpoints.get(i);
      Map<?, ?> view = (Map<?, ?>) listed.get(i);
      assertEquals(c.sha256(), view.get("sha256"));
      assertEquals(c.iteration(), ((Number) view.get("iteration")).intValue());
      assertEquals(c.size(), ((Number) view.get("size")).intValue());
      Map<String, Path> files = Map.of("caffemodel", dir.resolve(c.snapshotName() + ".caffemodel"),
          "solverstate", dir.resolve(c.snapshotName() + ".solverstate"), "deploy.prototxt",
          dir.resolve("deploy.prototxt"), "contract", dir.resolve(MODEL + ".contract.json"));
      for (var f : files.entrySet()) {
        HttpResponse<byte[]> r = get("/v1/models/" + MODEL + "/checkpoints/" + c.iteration() + "/" + f.getKey()
            + "?run=" + runId, TOKEN);
        assertEquals(200, r.statusCode(), f.getKey());
        assertArrayEquals(Files.readAllBytes(f.getValue()), r.body(), f.getKey() + " at " + c.iteration()
            + ": the download is the CLI's file");
        assertEquals("sha-256=:" + Base64.getEncoder().encodeToString(sha.digest(r.body())) + ":",
            r.headers().firstValue("Repr-Digest").orElseThrow());
        assertEquals(c.sha256(), r.headers().firstValue("X-Crema-Checkpoint-Sha256").orElseThrow());
      }
      assertEquals(c.sha256(), CheckpointRecord.sha256(Files.readAllBytes(files.get("caffemodel")),
          Files.readAllBytes(files.get("solverstate"))), "the record's sha256 is over the two files");
    }
    assertEquals(404, get("/v1/models/" + MODEL + "/checkpoints/7/caffemodel", TOKEN).statusCode());

    // The newest files predict, through crema predict, what the inference service serves.
    CheckpointRecord newest = checkpoints.get(checkpoints.size() - 1);
    long deadline = System.currentTimeMillis() + 120_000;
    while (!newest.sha256().equals(sha256Served()) && System.currentTimeMillis() < deadline) {
      Thread.sleep(300);
    }
    String[] digits = PipelineSupport.digitsCsv().split("\n");
    String csv = String.join("\n", List.of(digits).subList(0, 101)) + "\n";
    Predictions served = api.predict(MODEL, csv);
    assertEquals(newest.iteration(), served.iteration());
    Path in = tmp.resolve("rows.csv");
    Files.writeString(in, csv);
    Path probs = tmp.resolve("probs.csv");
    assertEquals(0, Crema.run("predict", "-model", dir.resolve("deploy.prototxt").toString(), "-weights",
        dir.resolve(newest.snapshotName() + ".caffemodel").toString(), "-contract",
        dir.resolve(MODEL + ".contract.json").toString(), "-input", in.toString(), "-output", probs.toString()));
    List<String> predicted = Files.readAllLines(probs);
    List<String> labels = List.of(predicted.get(0).split(",")).subList(1, 11);
    assertEquals(new ArrayList<>(served.rows().get(0).probabilities().keySet()), labels);
    for (int i = 0; i < served.rows().size(); i++) {
      String[] f = predicted.get(i + 1).split(",");
      for (int k = 0; k < labels.size(); k++) {
        assertEquals(served.rows().get(i).probabilities().get(labels.get(k)), Double.parseDouble(f[k + 1]), 1e-6,
            "row " + i + " " + labels.get(k));
      }
    }

    // And over Kafka, the client's other way to predict.
    String[] first = digits[1].split(",");
    Row.Builder row = Row.newBuilder().setId("r1");
    for (int i = 0; i < 64; i++) {
      row.addValues(Float.parseFloat(first[i]));
    }
    PredictResult viaKafka = api.predictOverKafka(MODEL, List.of(row.build()));
    assertEquals(newest.iteration(), viaKafka.getIteration());
    for (String label : labels) {
      assertEquals(served.rows().get(0).probabilities().get(label),
          viaKafka.getPredictions(0).getProbabilitiesMap().get(label), 1e-6);
    }
  }

  static String sha256Served() throws Exception {
    HttpResponse<byte[]> r = get("/v1/models/" + MODEL, TOKEN);
    return r.statusCode() == 200 ? String.valueOf(((Map<?, ?>) crema.client.Json.parse(
        new String(r.body(), StandardCharsets.UTF_8))).get("sha256")) : "";
  }

  /** The best checkpoint by test accuracy (the first of equals), as the examples choose. */
  static CheckpointRecord best() {
    CheckpointRecord best = null;
    for (CheckpointRecord c : checkpoints) {
      if (best == null || c.metrics().get("test/accuracy") > best.metrics().get("test/accuracy")) {
        best = c;
      }
    }
    return best;
  }

  static String run(List<String> cmd, Map<String, String> env, Path log) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(REPO.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), String.join(" ", cmd));
    String out = Files.readString(log);
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  @Order(3)
  void theJavaExampleKeepsTheBestModel() throws Exception {
    Path dir = tmp.resolve("best-java");
    Path classes = Files.createDirectories(tmp.resolve("example-classes"));
    run(List.of(Path.of(System.getProperty("java.home"), "bin", "javac").toString(), "-cp",
        System.getProperty("java.class.path"), "-d", classes.toString(),
        REPO.resolve("examples/clients/java/BestModels.java").toString()), Map.of(), tmp.resolve("javac.log"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classes + java.io.File.pathSeparator + System.getProperty("java.class.path"), "BestModels",
        broker.bootstrapServers(), MODEL, dir.toString(), "--until-caught-up"));
    String out = run(cmd, Map.of(), tmp.resolve("java-example.log"));
    CheckpointRecord best = best();
    assertTrue(out.contains("best: " + best), out);
    assertArrayEquals(best.checkpoint().getCaffemodel().toByteArray(),
        Files.readAllBytes(dir.resolve(best.snapshotName() + ".caffemodel")));
    assertEquals(best + "\n", Files.readString(dir.resolve("BEST")));
  }

  @Test
  @Order(4)
  void thePythonExampleKeepsTheBestModel() throws Exception {
    String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    Process probe = new ProcessBuilder(python, "-c", "import confluent_kafka, google.protobuf").redirectErrorStream(true)
        .start();
    Assumptions.assumeTrue(probe.waitFor() == 0, "python3-confluent-kafka and python3-protobuf are not installed"
        + " (apt-get install python3-confluent-kafka python3-protobuf protobuf-compiler)");
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    Path protos = REPO.resolve("proto/src/main/proto");
    run(List.of("protoc", "-I", protos.toString(), "--python_out=" + gen, protos.resolve("caffe.proto").toString(),
        protos.resolve("crema.proto").toString()), Map.of(), tmp.resolve("protoc.log"));
    Path dir = tmp.resolve("best-python");
    String out = run(List.of(python, REPO.resolve("examples/clients/python/best_models.py").toString(),
        broker.bootstrapServers(), MODEL, dir.toString(), "--until-caught-up"), Map.of("PYTHONPATH", gen.toString()),
        tmp.resolve("python-example.log"));
    CheckpointRecord best = best();
    assertTrue(out.contains("run=" + runId + " iter=" + best.iteration() + " "), out);
    assertTrue(out.contains("sha256=" + best.sha256()), out);
    assertArrayEquals(best.checkpoint().getCaffemodel().toByteArray(),
        Files.readAllBytes(dir.resolve(best.snapshotName() + ".caffemodel")));
    assertEquals(best.checkpoint().getDeployPrototxt(), Files.readString(dir.resolve("deploy.prototxt")));
    // Its contract JSON reads back as the record's contract.
    crema.proto.ModelContract.Builder back = crema.proto.ModelContract.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(Files.readString(dir.resolve(MODEL + ".contract.json")), back);
    assertEquals(best.checkpoint().getContract(), back.build());
    assertTrue(new HashSet<>(List.of(out.split("\n"))).size() >= 1);
  }
}
