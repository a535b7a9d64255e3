package crema.visualizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import com.google.protobuf.ByteString;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.OttoFixture;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.ClassCounts;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import crema.proto.FeatureStats;
import crema.proto.Job;
import crema.proto.TrainEvent;
import io.micronaut.context.ApplicationContext;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service over HTTP, on a real broker holding a run, a checkpoint of Caffe's weights and a dataset. */
class VisualizerServiceTest {
  @TempDir
  static Path tmp;

  static EmbeddedBroker broker;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void topics() throws Exception {
    broker = EmbeddedBroker.shared();
    Path root = OttoFixture.copyTo(tmp);
    byte[] caffemodel = Files.readAllBytes(root.resolve("exact/init.caffemodel"));
    try (var p = new KafkaClients(broker.bootstrapServers(), Map.of()).producer("test")) {
      p.send(new ProducerRecord<>(Topics.JOBS, "otto", Job.newBuilder().setId("svc-run").setModel("otto")
          .setSolverPrototxt("base_lr: 0.01").setNetPrototxt(Files.readString(root.resolve("otto_train_test.prototxt")))
          .setSubmittedMs(1000).build().toByteArray()));
      for (int i = 0; i <= 10; i++) {
        p.send(new ProducerRecord<>(Topics.TRAIN_EVENTS, "svc-run", TrainEvent.newBuilder().setRun("svc-run")
            .setModel("otto").setIteration(i * 100).setLoss(2.0 / (i + 1)).setLearningRate(0.01).setTimeMs(2000 + i)
            .setState(i == 10 ? "FINISHED" : "RUNNING").build().toByteArray()));
      }
      p.send(new ProducerRecord<>(Topics.CHECKPOINTS, "otto", Checkpoint.newBuilder().setRun("svc-run").setModel("otto")
          .setIteration(1000).setCaffemodel(ByteString.copyFrom(caffemodel))
          .setSha256(crema.proto.CheckpointParts.sha256(ByteString.copyFrom(caffemodel), ByteString.EMPTY))
          .setDeployPrototxt(Files.readString(root.resolve("otto_deploy.prototxt"))).build().toByteArray()));
      // The same weights again at iteration 2000, as parts plus a manifest (4 KiB parts).
      ByteString weights = ByteString.copyFrom(caffemodel);
      crema.bus.CheckpointLog.publish(p, Topics.CHECKPOINTS, Checkpoint.newBuilder().setRun("svc-run")
          .setModel("otto").setIteration(2000).setCaffemodel(weights)
          .setSha256(crema.proto.CheckpointParts.sha256(weights, ByteString.EMPTY))
          .setDeployPrototxt(Files.readString(root.resolve("otto_deploy.prototxt"))).build(), 4096);
      p.send(new ProducerRecord<>(Topics.DATASETS, "svc-set", DatasetSchema.newBuilder().setDataset("svc-set")
          .addLabelNames("a").addLabelNames("b").putCountsBySplit("train", ClassCounts.newBuilder().addCount(3).addCount(4)
              .build()).addFeatures(FeatureStats.newBuilder().setName("f").setMax(1)).setRejected(1).build().toByteArray()));
      p.send(new ProducerRecord<>(Topics.DEAD_LETTER, "svc.csv", DeadLetter.newBuilder().setDataset("svc-set")
          .setSource("svc.csv").setLineNumber(9).setRawLine("1,x").setReason("line 9, column 2 ('f'): 'x' is not a number")
          .build().toByteArray()));
      p.flush();
    }
  }

  static ApplicationContext start() {
    return ApplicationContext.run(EmbeddedServer.class, Map.of("micronaut.server.port", -1,
        "kafka.bootstrap.servers", broker.bootstrapServers(), "crema.visualizer.inference-url", "http://127.0.0.1:9"))
        .getApplicationContext();
  }

  static HttpResponse<String> get(ApplicationContext ctx, String path) throws Exception {
    URI base = ctx.getBean(EmbeddedServer.class).getURI();
    return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static String caughtUpOverview(ApplicationContext ctx) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      String body = get(ctx, "/api/overview").body();
      if (body.contains("\"caughtUp\":true") && body.contains("svc-run") && body.contains("svc-set")) {
        return body;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the visualizer did not read the topics: " + get(ctx, "/api/overview").body());
  }

  @Test
  void pageScriptsAndApiCarryTheContentSecurityPolicy() throws Exception {
    try (ApplicationContext ctx = start()) {
      for (String path : new String[] {"/", "/app.js", "/webjars/echarts/5.3.1/dist/echarts.min.js",
          "/webjars/dagre/0.8.4/dist/dagre.min.js", "/api/overview"}) {
        HttpResponse<String> r = get(ctx, path);
        assertEquals(200, r.statusCode(), path);
        String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), path + ": " + csp);
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""), path);
      }
      String page = get(ctx, "/").body();
      for (Matcher m = Pattern.compile("<script src=\"([^\"]+)\"").matcher(page); m.find(); ) {
        assertEquals(200, get(ctx, m.group(1)).statusCode(), "the page's script " + m.group(1) + " is served");
      }
      assertTrue(page.contains("/webjars/echarts/5.3.1/dist/echarts.min.js"), page);
      assertTrue(page.contains("/webjars/dagre/0.8.4/dist/dagre.min.js"), page);
    }
  }

  @Test
  void aCheckpointInPartsIsListedByItsManifestAndDrawnReassembled() throws Exception {
    try (ApplicationContext ctx = start()) {
      caughtUpOverview(ctx);
      String run = get(ctx, "/api/runs/svc-run").body();
      assertTrue(run.contains("\"iteration\":2000"), run);
      String whole = get(ctx, "/api/runs/svc-run/checkpoints/1000").body();
      String parts = get(ctx, "/api/runs/svc-run/checkpoints/2000").body();
      assertTrue(parts.contains("\"rows\":30,\"cols\":93"), parts);
      assertEquals(whole.substring(whole.indexOf("\"layers\"")), parts.substring(parts.indexOf("\"layers\"")),
          "the same weights, drawn the same, whole or in parts");
    }
  }

  @Test
  void aRestartRebuildsTheSameRunsDatasetsAndWeightsFromTheTopics() throws Exception {
    String overview;
    String run;
    String weights;
    try (ApplicationContext ctx = start()) {
      overview = caughtUpOverview(ctx);
      run = get(ctx, "/api/runs/svc-run").body();
      weights = get(ctx, "/api/runs/svc-run/checkpoints/1000").body();
    }
    assertTrue(overview.contains("\"state\":\"FINISHED\""), overview);
    assertTrue(overview.contains("\"latestRejections\":[{\"source\":\"svc.csv\",\"lineNumber\":9"), overview);
    assertTrue(overview.contains("\"testOutputs\":{}"), "empty maps are sent, not left out: " + overview);
    assertTrue(run.contains("\"train/loss\":{\"iterations\":[0,100,200,300,400,500,600,700,800,900,1000]"), run);
    assertTrue(weights.contains("\"name\":\"ip1\",\"type\":\"InnerProduct\""), weights);
    assertTrue(weights.contains("\"rows\":30,\"cols\":93"), weights);
    try (ApplicationContext ctx = start()) {
      assertEquals(overview, caughtUpOverview(ctx));
      assertEquals(run, get(ctx, "/api/runs/svc-run").body());
      assertEquals(weights, get(ctx, "/api/runs/svc-run/checkpoints/1000").body());
    }
  }

  @Test
  void netsCarryShapesAndParameterCounts() throws Exception {
    try (ApplicationContext ctx = start()) {
      caughtUpOverview(ctx);
      String net = get(ctx, "/api/runs/svc-run/net").body();
      assertTrue(net.contains("\"name\":\"ip1\",\"type\":\"InnerProduct\""), net);
      assertTrue(net.contains("\"paramCount\":2820"), "30 × 93 + 30: " + net);
      assertTrue(net.contains("\"phases\":[\"TEST\"]"), "accuracy is a TEST layer: " + net);
      String deploy = get(ctx, "/api/runs/svc-run/net?deploy=true").body();
      assertTrue(deploy.contains("\"name\":\"prob\""), deploy);
    }
  }

  /** The graph comes as nodes and edges for the page to lay out: the server draws nothing. */
  @Test
  @SuppressWarnings("unchecked")
  void netsComeAsNodesAndEdgesOfEveryLayer() throws Exception {
    NetParameter net = Prototxt.readNet(OttoFixture.copyTo(tmp.resolve("net")).resolve("otto_train_test.prototxt"));
    try (ApplicationContext ctx = start()) {
      caughtUpOverview(ctx);
      Map<String, Object> g = ctx.getBean(JsonMapper.class).readValue(get(ctx, "/api/runs/svc-run/net").body(), Map.class);
      assertFalse(g.containsKey("svg"), "no server-side drawing");
      List<Map<String, Object>> nodes = (List<Map<String, Object>>) g.get("nodes");
      List<Map<String, Object>> edges = (List<Map<String, Object>>) g.get("edges");
      Set<String> ids = new HashSet<>();
      Set<String> layerNames = new HashSet<>();
      for (Map<String, Object> n : nodes) {
        assertTrue(ids.add((String) n.get("id")), "unique ids: " + n);
        if (n.get("shape").equals("LAYER")) {
          int i = ((Number) n.get("layer")).intValue();
          assertEquals("layer" + i, n.get("id"));
          assertEquals(net.getLayer(i).getName(), ((List<String>) n.get("lines")).get(0));
          layerNames.add(net.getLayer(i).getName());
        }
      }
      Set<String> expected = new HashSet<>();
      net.getLayerList().forEach(l -> expected.add(l.getName()));
      assertEquals(expected, layerNames, "a node for every layer (TRAIN and TEST Data layers share one)");
      int bottomsAndTops = 0;
      for (LayerParameter l : net.getLayerList()) {
        bottomsAndTops += l.getBottomCount() + l.getTopCount();
      }
      assertEquals(bottomsAndTops, edges.size(), "an edge per bottom and per top");
      for (Map<String, Object> e : edges) {
        assertTrue(ids.contains((String) e.get("from")) && ids.contains((String) e.get("to")), e.toString());
      }
    }
  }

  @Test
  void unknownThingsAndAnAbsentInferenceServiceAreClearErrors() throws Exception {
    try (ApplicationContext ctx = start()) {
      caughtUpOverview(ctx);
      HttpResponse<String> r = get(ctx, "/api/runs/nope");
      assertEquals(404, r.statusCode());
      assertTrue(r.body().contains("no run 'nope' on the topics"), r.body());
      r = get(ctx, "/api/runs/svc-run/checkpoints/5");
      assertEquals(404, r.statusCode());
      assertTrue(r.body().contains("no checkpoint at iteration 5"), r.body());
      URI base = ctx.getBean(EmbeddedServer.class).getURI();
      r = HTTP.send(HttpRequest.newBuilder(base.resolve("/api/models/otto/predict")).header("Content-Type", "text/csv")
          .POST(HttpRequest.BodyPublishers.ofString("a,b\n1,2\n")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(502, r.statusCode());
      assertTrue(r.body().contains("the inference service at http://127.0.0.1:9 did not answer"), r.body());
    }
  }

  @AfterAll
  static void done() {
    // The shared broker stops with the JVM.
  }
}
