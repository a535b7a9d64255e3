package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import com.google.protobuf.ByteString;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.draw.WithoutGraphviz;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.ClassCounts;
import crema.proto.DatasetSchema;
import crema.proto.TrainEvent;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;

/**
 * The dashboard in a real headless Chromium, against the visualizer fed by a real broker and a
 * real training run of the seed's Otto net (ingest → trainer → inference, each its own process).
 * Screenshots go to pipeline-tests/target/screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {
  static final String XSS_LAYER = "<script>alert(1)</script>";
  static final String XSS_FEATURE = "<img src=x onerror=alert(2)>";
  static final String XSS_LABEL = "<b>ring</b>";
  static final String LABELS = "Class_1,Class_2,Class_3,Class_4,Class_5,Class_6,Class_7,Class_8,Class_9";
  static final int MAX_ITER = 60000;

  @TempDir
  static Path tmp;

  static Browser browser;
  static EmbeddedBroker broker;
  static ServiceProcess ingest;
  static ServiceProcess trainer;
  static ServiceProcess inference;
  static ServiceProcess visualizer;
  static Path repo = Path.of("").toAbsolutePath().getParent();
  static String runId;
  static String net;
  static WithoutGraphviz noGraphviz;

  @BeforeAll
  static void start() throws Exception {
    browser = Browser.start();
    noGraphviz = WithoutGraphviz.create();
    broker = EmbeddedBroker.start();
    ingest = new ServiceProcess("ingest", broker.bootstrapServers(), tmp).start();
    trainer = new ServiceProcess("trainer", broker.bootstrapServers(), tmp).start();
    inference = new ServiceProcess("inference", broker.bootstrapServers(), tmp).start();
    visualizer = visualizer();
    Path otto = tmp.resolve("otto");
    Files.createDirectories(otto);
    int rc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        repo.resolve("examples/otto/GenerateOtto.java").toString(), "3000", "20", "1", otto.toString())
        .inheritIO().start().waitFor();
    assertEquals(0, rc, "GenerateOtto");
    Map<String, Object> in = PipelineSupport.post(ingest.url(), "/v1/datasets/otto/rows?label=target&id=id&log1p=true"
        + "&test_fraction=0.1&seed=0&labels=" + LABELS + "&source=otto-train.csv",
        Files.readString(otto.resolve("train.csv")), MediaType.of("text/csv"));
    assertEquals(3000, ((Number) in.get("accepted")).intValue(), in.toString());
    net = Files.readString(repo.resolve("examples/otto/otto_kafka_train_test.prototxt"));
  }

  /** The visualizer with no Graphviz on its PATH, as on a fresh machine: the page lays the net out. */
  static ServiceProcess visualizer() throws Exception {
    return new ServiceProcess("visualizer", broker.bootstrapServers(), tmp,
        "-crema.visualizer.inference-url=" + inference.url()).env("PATH", noGraphviz.path()).start();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {browser, visualizer, inference, trainer, ingest, broker, noGraphviz}) {
      if (c != null) {
        c.close();
      }
    }
    if (visualizer != null) {
      Files.writeString(Path.of("target/dashboard-visualizer.log"), visualizer.log());
      Files.writeString(Path.of("target/dashboard-trainer.log"), trainer.log());
    }
  }

  static String solver(int maxIter, int display, int snapshot) throws Exception {
    return Files.readString(repo.resolve("examples/otto/otto_kafka_solver.prototxt"))
        .replace("max_iter: 100000", "max_iter: " + maxIter).replace("display: 1000", "display: " + display)
        .replace("snapshot: 10000", "snapshot: " + snapshot).replace("test_interval: 10000", "test_interval: " + snapshot);
  }

  static String submit(String model, String solver, String net) {
    Map<String, Object> job = PipelineSupport.post(trainer.url(), "/v1/jobs", Map.of("model", model, "solver", solver,
        "net", net, "labels", List.of(LABELS.split(","))), MediaType.APPLICATION_JSON_TYPE);
    return (String) job.get("id");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> get(String url) {
    return PipelineSupport.http().toBlocking().retrieve(HttpRequest.GET(url), Map.class);
  }

  static void awaitServed(String model, int iteration) throws Exception {
    long deadline = System.currentTimeMillis() + 300_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (((Number) get(inference.url() + "/v1/models/" + model).get("iteration")).intValue() == iteration) {
          return;
        }
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        // not served yet
      }
      Thread.sleep(300);
    }
    throw new AssertionError(model + " was not served at iteration " + iteration + ":\n" + trainer.log());
  }

  static void awaitFinished() throws Exception {
    awaitServed("otto", MAX_ITER);
    browser.await("the run shown FINISHED", Duration.ofSeconds(60), d -> {
      Map<String, Object> r = get(visualizer.url() + "/api/runs/" + runId);
      return "FINISHED".equals(((Map<?, ?>) r.get("summary")).get("state")) ? r : null;
    });
  }

  /** (iteration, loss) of every TRAIN event of the run on crema.train-events: the run's points. */
  static List<double[]> trainLossPoints(String run) throws Exception {
    List<double[]> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.TRAIN_EVENTS)) {
      TrainEvent e = TrainEvent.parseFrom(r.value());
      if (e.getRun().equals(run) && e.getPhase() == TrainEvent.Phase.TRAIN && Double.isFinite(e.getLoss())) {
        out.add(new double[] {e.getIteration(), e.getLoss()});
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<List<Number>> seriesData(String chartId, String seriesId) {
    return (List<List<Number>>) browser.js("const i = echarts.getInstanceByDom(document.getElementById(arguments[0]));"
        + " const o = i ? i.getOption() : null;"
        + " const s = o ? o.series.find(x => x.id === arguments[1]) : null; return s ? s.data : [];",
        chartId, seriesId);
  }

  /** The text of every element matching, read in one step (the page redraws at each push). */
  @SuppressWarnings("unchecked")
  static List<String> texts(String selector) {
    return (List<String>) browser.js("return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent)",
        selector);
  }

  @Test
  @Order(1)
  void curvesHoldTheRunsPointsAndGrowWhileItTrains() throws Exception {
    browser.driver.get(visualizer.url() + "/#/");
    browser.await("the page connects its server push", Duration.ofSeconds(30),
        d -> d.findElement(By.id("live")).getText().equals("live"));
    browser.js("window.__loadedOnce = 'yes'");
    runId = submit("otto", solver(MAX_ITER, 500, 20000), net);
    // The run appears in the table without a reload; open it from there.
    browser.await("the run in the runs table", Duration.ofSeconds(60), d -> {
      try {
        // The table is redrawn at each push: a link found may be replaced before it is clicked.
        d.findElement(By.cssSelector("tr[data-run='" + runId + "'] a")).click();
        return true;
      } catch (org.openqa.selenium.NoSuchElementException | org.openqa.selenium.StaleElementReferenceException e) {
        return null;
      }
    });
    int first = browser.await("loss points on the chart", Duration.ofSeconds(120), d -> {
      int n = seriesData("chart-loss", "train/loss").size();
      return n >= 2 ? n : null;
    });
    browser.screenshot("curves-while-training");
    String stateThen = browser.driver.findElement(By.id("run-status")).getText();
    assertTrue(stateThen.startsWith("RUNNING"), "sampled while training: " + stateThen);
    int later = browser.await("more loss points while it trains", Duration.ofSeconds(120), d -> {
      int n = seriesData("chart-loss", "train/loss").size();
      return n > first ? n : null;
    });
    assertTrue(later > first);
    assertEquals("yes", browser.js("return window.__loadedOnce"), "the curves grew without a reload");

    awaitFinished();
    List<double[]> events = trainLossPoints(runId);
    browser.await("every point of the run on the chart", Duration.ofSeconds(30),
        d -> seriesData("chart-loss", "train/loss").size() == events.size());
    List<List<Number>> shown = seriesData("chart-loss", "train/loss");
    for (int i = 0; i < events.size(); i++) {
      assertEquals(events.get(i)[0], shown.get(i).get(0).doubleValue(), "iteration of point " + i);
      assertEquals(events.get(i)[1], shown.get(i).get(1).doubleValue(), 1e-12, "loss of point " + i);
    }
    assertEquals(MAX_ITER / 500 + 1, events.size(), "a point per display and one at the end");
    assertFalse(seriesData("chart-loss", "train/loss (smoothed)").isEmpty(), "smoothed loss drawn");
    assertEquals(4, seriesData("chart-test", "test/accuracy").size(), "test accuracy at 0, 20k, 40k, 60k");
    assertFalse(seriesData("chart-lr", "train/lr").isEmpty(), "learning rate drawn");
    assertFalse(seriesData("chart-ratio", "ratio/ip1/0").isEmpty(), "update ratio of ip1's weights drawn");
    assertEquals("log", browser.js("return echarts.getInstanceByDom(document.getElementById('chart-ratio'))"
        + ".getOption().yAxis[0].type"), "ratios on a log scale");
    assertTrue(browser.driver.findElement(By.id("solver-text")).getText().contains("lr_policy: \"inv\""),
        "solver settings beside the curves");
    assertEquals(solver(MAX_ITER, 500, 20000), browser.js("return document.getElementById('solver-text').textContent"),
        "the whole solver text");
    // Its long lines (the file's opening comment) wrap: as one unwrapped line each they would be wider
    // than the box, and wrapped nothing reaches past its edge.
    @SuppressWarnings("unchecked")
    Map<String, Object> widths = (Map<String, Object>) browser.js("const e = document.getElementById('solver-text');"
        + " const probe = e.cloneNode(true); probe.style.whiteSpace = 'pre'; probe.style.position = 'absolute';"
        + " probe.style.visibility = 'hidden'; e.parentNode.append(probe);"
        + " const r = {unwrapped: probe.scrollWidth, scroll: e.scrollWidth, client: e.clientWidth}; probe.remove(); return r;");
    long client = ((Number) widths.get("client")).longValue();
    assertTrue(((Number) widths.get("unwrapped")).longValue() > client, "a line longer than the box: " + widths);
    assertTrue(((Number) widths.get("scroll")).longValue() <= client, "nothing cut off: " + widths);
    new Select(browser.driver.findElement(By.id("x-axis"))).selectByValue("time");
    List<List<Number>> byTime = seriesData("chart-loss", "train/loss");
    assertTrue(byTime.get(byTime.size() - 1).get(0).doubleValue() < 3600, "x is seconds since the run began");
    browser.screenshot("curves-finished");
    assertFalse(browser.alertShown());
  }

  @Test
  @Order(2)
  void netGraphShowsEveryLayerOfTheSeedNet() throws Exception {
    awaitFinished();
    browser.driver.get(visualizer.url() + "/#/run/" + runId + "/net");
    browser.await("the net drawn", Duration.ofSeconds(60),
        d -> d.findElements(By.cssSelector("#net-graph svg g.node")).size() > 0);
    NetParameter seed = Prototxt.parseNet(net, "seed");
    // As draw_net draws it, the TRAIN and TEST Data layers (same name, same type) are one node.
    Set<String> names = new HashSet<>();
    seed.getLayerList().forEach(l -> names.add(l.getName()));
    Set<String> shown = new HashSet<>();
    for (WebElement node : browser.driver.findElements(By.cssSelector("#net-graph g.node[id^='layer']"))) {
      int i = Integer.parseInt(node.getAttribute("id").substring("layer".length()));
      String text = node.findElement(By.tagName("text")).getText();
      assertEquals(seed.getLayer(i).getName(), text, "node layer" + i + " is layer " + i);
      assertTrue(shown.add(text), "one node per name: " + text);
    }
    assertEquals(names, shown, "every layer of the seed net drawn");
    // Edges as draw_net draws them: one from each bottom blob to its layer, one from each layer to each top.
    int bottomsAndTops = seed.getLayerList().stream().mapToInt(l -> l.getBottomCount() + l.getTopCount()).sum();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> edges = (List<Map<String, Object>>) browser.js("return Array.from("
        + "document.querySelectorAll('#net-graph svg g.edge')).map(e => ({from: e.dataset.from, to: e.dataset.to,"
        + " path: e.querySelector('path').getAttribute('d')}))");
    assertEquals(bottomsAndTops, edges.size(), "an edge per bottom and per top: " + edges);
    Set<String> blobs = new HashSet<>();
    seed.getLayerList().forEach(l -> {
      blobs.addAll(l.getBottomList());
      blobs.addAll(l.getTopList());
    });
    assertEquals(blobs, new HashSet<>(texts("#net-graph g.node.blob text")), "a node for every blob");
    @SuppressWarnings("unchecked")
    Set<String> nodeIds = new HashSet<>((List<String>) browser.js(
        "return Array.from(document.querySelectorAll('#net-graph g.node')).map(n => n.dataset.node)"));
    for (Map<String, Object> e : edges) {
      assertTrue(nodeIds.contains((String) e.get("from")) && nodeIds.contains((String) e.get("to")),
          "an edge between drawn nodes: " + e);
      assertTrue(((String) e.get("path")).startsWith("M"), "a drawn path: " + e);
    }
    // Laid out in the page: the server sent nodes and edges, no picture.
    assertFalse(PipelineSupport.http().toBlocking().retrieve(visualizer.url() + "/api/runs/" + runId + "/net")
        .contains("<svg"), "no server-side drawing");
    new Actions(browser.driver).moveToElement(browser.driver.findElement(By.cssSelector("#net-graph g.node[id='layer0']")))
        .perform();
    String dataTip = browser.await("both Data layers on hover", Duration.ofSeconds(10), d -> {
      WebElement t = d.findElement(By.id("layer-tip"));
      return t.isDisplayed() && t.getText().contains("data [100 × 93 × 1 × 1]") ? t.getText() : null;
    });
    assertTrue(dataTip.contains("data [64 × 93 × 1 × 1]"), "the TRAIN batch too: " + dataTip);
    WebElement ip1 = browser.driver.findElement(By.cssSelector("#net-graph g.node[id='layer2']"));
    new Actions(browser.driver).moveToElement(ip1).perform();
    String tip = browser.await("the layer's details on hover", Duration.ofSeconds(10), d -> {
      WebElement t = d.findElement(By.id("layer-tip"));
      return t.isDisplayed() ? t.getText() : null;
    });
    assertTrue(tip.contains("ip1 (InnerProduct)"), tip);
    assertTrue(tip.contains("bottoms: data [64 × 93 × 1 × 1]"), tip);
    assertTrue(tip.contains("tops: ip1 [64 × 30]"), tip);
    assertTrue(tip.contains("parameters: 2,820"), tip);
    assertTrue(tip.contains("num_output: 30"), tip);
    browser.screenshot("net-hover-ip1");
    browser.driver.findElement(By.cssSelector("input[name=net-which][value=deploy]")).click();
    browser.await("the deploy net drawn", Duration.ofSeconds(60), d -> texts("#net-graph g.node text").contains("prob"));
    browser.screenshot("net-deploy");
  }

  @Test
  @Order(3)
  @SuppressWarnings("unchecked")
  void ip1HeatmapHoldsTheCheckpointsValues() throws Exception {
    awaitFinished();
    Checkpoint last = null;
    for (ConsumerRecord<String, byte[]> r : PipelineSupport.readAll(broker, Topics.CHECKPOINTS)) {
      Checkpoint c = Checkpoint.parseFrom(r.value());
      if (c.getRun().equals(runId) && (last == null || c.getIteration() > last.getIteration())) {
        last = c;
      }
    }
    assertNotNull(last);
    assertEquals(MAX_ITER, last.getIteration());
    LayerParameter ip1 = BinaryProto.parseNet(last.getCaffemodel().toByteArray(), "checkpoint").getLayerList().stream()
        .filter(l -> l.getName().equals("ip1")).findFirst().orElseThrow();
    browser.driver.get(visualizer.url() + "/#/run/" + runId + "/weights");
    String selector = "[data-chart=heatmap][data-layer=ip1][data-role=weights][data-column='0']";
    WebElement heat = browser.await("ip1's heatmap", Duration.ofSeconds(60),
        d -> d.findElements(By.cssSelector(selector)).stream().findFirst().orElse(null));
    Map<String, Object> option = (Map<String, Object>) browser.js(
        "return echarts.getInstanceByDom(arguments[0]).getOption()", heat);
    List<Object> yAxis = (List<Object>) ((Map<String, Object>) ((List<Object>) option.get("yAxis")).get(0)).get("data");
    List<Object> xAxis = (List<Object>) ((Map<String, Object>) ((List<Object>) option.get("xAxis")).get(0)).get("data");
    assertEquals(30, yAxis.size(), "30 rows: ip1's num_output");
    assertEquals(93, xAxis.size(), "93 columns: the features");
    List<List<Number>> cells = (List<List<Number>>) ((Map<String, Object>) ((List<Object>) option.get("series")).get(0))
        .get("data");
    assertEquals(30 * 93, cells.size());
    for (List<Number> cell : cells) {
      int col = cell.get(0).intValue();
      int row = cell.get(1).intValue();
      assertEquals(ip1.getBlobs(0).getData(row * 93 + col), cell.get(2).doubleValue(), 1e-6,
          "ip1 weight (" + row + ", " + col + ")");
    }
    assertFalse(browser.driver.findElements(By.cssSelector("[data-chart=histogram][data-layer=ip1][data-role=bias]"))
        .isEmpty(), "a histogram of ip1's biases");
    browser.screenshot("weights-ip1");
    new Select(browser.driver.findElement(By.id("checkpoint-b"))).selectByValue("20000");
    browser.await("two checkpoints side by side", Duration.ofSeconds(60), d -> d.findElements(
        By.cssSelector("[data-chart=heatmap][data-layer=ip1][data-column='1']")).size() == 1);
    assertEquals(List.of("60000", "20000"), browser.driver.findElements(By.cssSelector("#weights > div")).stream()
        .map(e -> e.getAttribute("data-iteration")).toList());
    browser.screenshot("weights-side-by-side");
  }

  @Test
  @Order(4)
  @SuppressWarnings("unchecked")
  void aPredictFromThePageMatchesTheInferenceService() throws Exception {
    awaitFinished();
    List<String> test = Files.readAllLines(tmp.resolve("otto/test.csv"));
    String csv = test.get(0) + "\n" + test.get(1) + "\n" + test.get(2) + "\n";
    Map<String, Object> direct = PipelineSupport.post(inference.url(), "/v1/models/otto:predict", csv,
        MediaType.of("text/csv"));
    browser.driver.get(visualizer.url() + "/#/predict");
    browser.await("the served models listed", Duration.ofSeconds(30),
        d -> !new Select(d.findElement(By.id("predict-model"))).getOptions().isEmpty());
    new Select(browser.driver.findElement(By.id("predict-model"))).selectByValue("otto");
    WebElement area = browser.driver.findElement(By.id("predict-csv"));
    browser.js("arguments[0].value = arguments[1]", area, csv);
    browser.driver.findElement(By.id("predict-button")).click();
    browser.await("the probabilities", Duration.ofSeconds(30),
        d -> d.findElements(By.cssSelector("#predict-table tbody tr")).size() == 2);
    List<Map<String, Object>> preds = (List<Map<String, Object>>) direct.get("predictions");
    for (int row = 0; row < 2; row++) {
      Map<String, Object> p = preds.get(row);
      WebElement tr = browser.driver.findElement(By.cssSelector("#predict-table tbody tr[data-row='" + row + "']"));
      assertEquals(p.get("label"), tr.findElement(By.cssSelector("td.top")).getText());
      assertEquals(p.get("id"), tr.findElement(By.cssSelector("td.id")).getText(), "the id column is echoed");
      for (Map.Entry<String, Object> e : ((Map<String, Object>) p.get("probabilities")).entrySet()) {
        double shown = Double.parseDouble(tr.findElement(By.cssSelector("td[data-label='" + e.getKey() + "']")).getText());
        assertEquals(((Number) e.getValue()).doubleValue(), shown, 5.1e-7, "row " + row + " " + e.getKey());
      }
    }
    assertTrue(browser.driver.findElement(By.id("predict-served")).getText().contains("iteration " + MAX_ITER));
    browser.screenshot("predict");

    // The same rows uploaded as a file give the same answers.
    Path upload = tmp.resolve("upload.csv");
    Files.writeString(upload, csv);
    browser.js("arguments[0].value = ''", area);
    browser.js("document.querySelector('#predict-table tbody').replaceChildren()");
    browser.driver.findElement(By.id("predict-file")).sendKeys(upload.toAbsolutePath().toString());
    browser.driver.findElement(By.id("predict-button")).click();
    browser.await("the probabilities of the uploaded file", Duration.ofSeconds(30),
        d -> d.findElements(By.cssSelector("#predict-table tbody tr")).size() == 2);
    for (int row = 0; row < 2; row++) {
      assertEquals(preds.get(row).get("label"), browser.driver.findElement(
          By.cssSelector("#predict-table tbody tr[data-row='" + row + "'] td.top")).getText(), "uploaded row " + row);
    }
  }

  @Test
  @Order(5)
  void namesFromPrototxtAndCsvShowAsText() throws Exception {
    awaitFinished();
    String header = "id,f1," + XSS_FEATURE.replace(",", "") + ",target";
    String rows = header + "\n1,1,2,a\n2,3,4,b\n3,5,6,a\n4,7,oops,b\n";
    Map<String, Object> in = PipelineSupport.post(ingest.url(), "/v1/datasets/xss/rows?label=target&id=id&seed=0"
        + "&test_fraction=0&source=xss.csv", rows, MediaType.of("text/csv"));
    assertEquals(1, ((Number) in.get("rejected")).intValue(), in.toString());
    String xssNet = net.replace("name: \"ip2\"", "name: \"" + XSS_LAYER + "\"");
    String xssRun = submit("xss", solver(500, 100, 500), xssNet);
    awaitServed("xss", 500);

    browser.driver.get(visualizer.url() + "/#/run/" + xssRun + "/net");
    WebElement node = browser.await("the layer with the script name drawn", Duration.ofSeconds(60),
        d -> d.findElements(By.cssSelector("#net-graph g.node[id^='layer'] text")).stream()
            .filter(t -> t.getText().equals(XSS_LAYER)).findFirst().orElse(null));
    new Actions(browser.driver).moveToElement(node).perform();
    browser.await("its name in the hover", Duration.ofSeconds(10),
        d -> d.findElement(By.id("layer-tip")).getText().startsWith(XSS_LAYER + " (InnerProduct)"));
    browser.screenshot("escaping-net");
    browser.driver.get(visualizer.url() + "/#/run/" + xssRun + "/weights");
    browser.await("its weights titled with the name as text", Duration.ofSeconds(60),
        d -> texts("#weights h4").stream().anyMatch(h -> h.startsWith(XSS_LAYER + " (InnerProduct) weights")));
    browser.driver.get(visualizer.url() + "/#/datasets");
    String overview = PipelineSupport.http().toBlocking().retrieve(visualizer.url() + "/api/overview");
    Files.writeString(Path.of("target/dashboard-overview.json"), overview);
    assertTrue(overview.contains("onerror=alert(2)"), overview);
    browser.await("the feature named like a tag, as text", Duration.ofSeconds(60),
        d -> texts("[data-dataset=xss] table.features td").contains(XSS_FEATURE.replace(",", "")));
    browser.await("the rejected row and its reason", Duration.ofSeconds(60),
        d -> texts("[data-dataset=xss] table.dead-letters td").stream().anyMatch(td -> td.contains("oops")));
    browser.screenshot("escaping-datasets");
    assertFalse(browser.alertShown(), "no smuggled script ran");
    assertEquals(0L, browser.js("return document.querySelectorAll('main img').length"), "no <img> element made");
    List<String> pageScripts = new ArrayList<>();
    Matcher m = Pattern.compile("<script src=\"([^\"]+)\"").matcher(
        Files.readString(repo.resolve("visualizer-service/src/main/resources/public/index.html")));
    while (m.find()) {
      pageScripts.add(m.group(1));
    }
    assertEquals(pageScripts, browser.js("return Array.from(document.querySelectorAll('script')).map(s => s.getAttribute('src'))"),
        "only the page's own scripts");
  }

  @Test
  @Order(6)
  @SuppressWarnings("unchecked")
  void aRestartedVisualizerShowsTheSameRunsAndCurves() throws Exception {
    awaitFinished();
    Map<String, Object> before = get(visualizer.url() + "/api/runs/" + runId);
    List<Object> runsBefore = (List<Object>) get(visualizer.url() + "/api/overview").get("runs");
    visualizer.close();
    visualizer = visualizer();
    browser.await("the restarted visualizer has read the topics", Duration.ofSeconds(60),
        d -> Boolean.TRUE.equals(get(visualizer.url() + "/api/overview").get("caughtUp")));
    assertEquals(before, get(visualizer.url() + "/api/runs/" + runId), "the same run, curves and checkpoints");
    assertEquals(runsBefore, get(visualizer.url() + "/api/overview").get("runs"), "the same runs");
    browser.driver.get(visualizer.url() + "/#/run/" + runId + "/curves");
    int points = trainLossPoints(runId).size();
    browser.await("the same curve drawn after the restart", Duration.ofSeconds(30),
        d -> seriesData("chart-loss", "train/loss").size() == points);
    browser.screenshot("curves-after-restart");
  }
  /** Three classes of 8×8 grey pictures: a bar, a ring, a cross, each drawn a little differently per sample. */
  static Datum shape(int label, int i) {
    byte[] px = new byte[64];
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        boolean on = switch (label) {
          case 0 -> x == 2 + i % 4;
          case 1 -> (x == 1 || x == 6 || y == 1 || y == 6) && x >= 1 && x <= 6 && y >= 1 && y <= 6;
          default -> x == y || x == 7 - y;
        };
        px[y * 8 + x] = (byte) (on ? 200 + 5 * i : 10 * i);
      }
    }
    return Datum.newBuilder().setChannels(1).setHeight(8).setWidth(8).setData(ByteString.copyFrom(px))
        .setLabel(label).build();
  }

  static final String SHAPES_NET = """
      name: "TinyLeNet"
      layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
        transform_param { scale: 0.00390625 }
        data_param { source: "crema.datums.shapes8.train" batch_size: 6 backend: KAFKA } }
      layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
        transform_param { scale: 0.00390625 }
        data_param { source: "crema.datums.shapes8.test" batch_size: 3 backend: KAFKA } }
      layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
      layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1"
        inner_product_param { num_output: 3 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
      layer { name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy" include { phase: TEST } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }
      """;

  /** Whether every <img> matching is loaded with a picture of that natural size. */
  static boolean loaded(String selector, int count, int width, int height) {
    @SuppressWarnings("unchecked")
    List<List<Number>> sizes = (List<List<Number>>) browser.js("return Array.from(document.querySelectorAll(arguments[0]))"
        + ".map(i => [i.complete ? 1 : 0, i.naturalWidth, i.naturalHeight])", selector);
    return sizes.size() == count && sizes.stream().allMatch(z -> z.get(0).intValue() == 1
        && z.get(1).intValue() == width && z.get(2).intValue() == height);
  }

  @Test
  @Order(7)
  @SuppressWarnings("unchecked")
  void imageDatasetSamplesConvFiltersAndFeatureMapsArePictures() throws Exception {
    List<String> labels = List.of("bar", XSS_LABEL, "cross");
    try (var p = new KafkaClients(broker.bootstrapServers(), Map.of()).producer("shapes")) {
      for (int i = 0; i < 10; i++) {
        for (int l = 0; l < 3; l++) {
          p.send(new ProducerRecord<>(Topics.datums("shapes8", "train"), "s" + i, shape(l, i).toByteArray()));
        }
      }
      for (int l = 0; l < 3; l++) {
        p.send(new ProducerRecord<>(Topics.datums("shapes8", "test"), "t" + l, shape(2 - l, 3).toByteArray()));
      }
      p.send(new ProducerRecord<>(Topics.DATASETS, "shapes8", DatasetSchema.newBuilder().setDataset("shapes8")
          .addAllLabelNames(labels).putCountsBySplit("train", ClassCounts.newBuilder().addCount(10).addCount(10)
              .addCount(10).build()).putCountsBySplit("test", ClassCounts.newBuilder().addCount(1).addCount(1)
              .addCount(1).build()).setAccepted(33).build().toByteArray()));
      p.flush();
    }
    Map<String, Object> job = PipelineSupport.post(trainer.url(), "/v1/jobs", Map.of("model", "shapes", "solver",
        "base_lr: 0.01 momentum: 0.9 lr_policy: \"fixed\" display: 10 max_iter: 20 snapshot: 20 test_iter: 1"
            + " test_interval: 20 random_seed: 1", "net", SHAPES_NET, "labels", labels), MediaType.APPLICATION_JSON_TYPE);
    String shapesRun = (String) job.get("id");

    // Samples per class on the datasets page: 8 of each class (the first on the train topic), 8×8 each.
    browser.driver.get(visualizer.url() + "/#/datasets");
    browser.await("8 loaded samples of each of the 3 classes", Duration.ofSeconds(60),
        d -> loaded("[data-dataset=shapes8] img.sample", 24, 8, 8));
    assertEquals(labels, texts("[data-dataset=shapes8] .sample-label"), "class names as text");
    assertEquals(0L, browser.js("return document.querySelectorAll('[data-dataset=shapes8] .samples b').length"),
        "a label named like a tag made no element");
    assertTrue(((Number) browser.js("return document.querySelector('[data-dataset=shapes8] img.sample')"
        + ".getBoundingClientRect().width")).doubleValue() >= 48, "small pictures drawn larger");
    browser.js("document.querySelector('[data-dataset=shapes8]').scrollIntoView()");
    browser.screenshot("datasets-samples");

    browser.await("the conv net's checkpoint at iteration 20", Duration.ofSeconds(180), d -> {
      try {
        List<Map<String, Object>> cps = (List<Map<String, Object>>) get(visualizer.url() + "/api/runs/" + shapesRun)
            .get("checkpoints");
        return cps.stream().anyMatch(c -> ((Number) c.get("iteration")).intValue() == 20) ? cps : null;
      } catch (io.micronaut.http.client.exceptions.HttpClientResponseException e) {
        return null;
      }
    });
    browser.driver.get(visualizer.url() + "/#/run/" + shapesRun + "/weights");
    // conv1's 20 filters of 5×5, LeNet's conv1: 4 rows of 5, one white pixel between tiles.
    browser.await("conv1's filters as a loaded vis_square picture", Duration.ofSeconds(60),
        d -> loaded("img.vis-square[data-layer=conv1][data-role=weights]", 1, 5 * 6 - 1, 4 * 6 - 1));
    // The first test Datum through the net: conv1's 20 outputs of 4×4 in 4 rows of 5; the sample itself.
    browser.await("conv1's feature maps and the sample, loaded", Duration.ofSeconds(60),
        d -> loaded("img.feature-map[data-layer=conv1]", 1, 24, 19) && loaded("img.feature-sample", 1, 8, 8));
    assertTrue(texts(".features-maps h5").contains("conv1 (Convolution) output [1 × 20 × 4 × 4]"),
        texts(".features-maps h5").toString());
    assertTrue(texts(".sample-caption").get(0).startsWith("sample: cross (crema.datums.shapes8.test @ 0:0)"),
        texts(".sample-caption").toString());
    browser.screenshot("weights-conv-filters");
    browser.js("document.querySelector('.features-maps').scrollIntoView()");
    browser.screenshot("weights-feature-maps");

    // Another sample, chosen by class: the maps are computed for it.
    browser.await("the samples to choose from", Duration.ofSeconds(30),
        d -> new Select(d.findElement(By.id("feature-sample"))).getOptions().size() == 1 + 24);
    new Select(browser.driver.findElement(By.id("feature-sample"))).selectByValue("1/2");
    browser.await("the chosen sample's feature maps", Duration.ofSeconds(60),
        d -> texts(".sample-caption").stream().anyMatch(t -> t.startsWith("sample: " + XSS_LABEL + " (crema.datums.shapes8.train"))
            && loaded("img.feature-map[data-layer=conv1]", 1, 24, 19));
    browser.screenshot("weights-feature-maps-chosen");
    assertFalse(browser.alertShown());
  }
}
