package crema.visualizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.google.protobuf.ByteString;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.Blob;
import crema.engine.Net;
import crema.engine.data.DatumTransformer;
import crema.engine.data.ImageDatums;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.ClassCounts;
import crema.proto.DatasetSchema;
import crema.proto.ModelContract;
import io.micronaut.context.ApplicationContext;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's image views over HTTP, on a real broker: sample images per class of grey raw
 * and colour encoded Datum topics, a small conv net's filters as vis_square pictures, and one
 * test sample's feature maps under its checkpoint.
 */
class ImageViewsTest {
  static final String GREY = "svc-img";
  static final String RGB = "svc-rgb";
  static final List<String> LABELS = List.of("zero", "one", "two");
  /** The deploy net: 1×8×8 in, conv1 4×1×3×3 → 4×6×6, pool → 4×3×3, conv2 6×4×2×2 → 6×2×2. */
  static final String DEPLOY = """
      name: "TinyLeNet"
      layer { name: "input" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 8 dim: 8 } } }
      layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" }
          bias_filler { type: "constant" value: 0.1 } } }
      layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
      layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
      layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
        convolution_param { num_output: 6 kernel_size: 2 weight_filler { type: "xavier" } } }
      layer { name: "ip1" type: "InnerProduct" bottom: "conv2" top: "ip1"
        inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
      layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
      """;
  static final String NET = """
      name: "TinyLeNet"
      layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
        transform_param { scale: 0.00390625 }
        data_param { source: "crema.datums.svc-img.test" batch_size: 2 backend: KAFKA } }
      """;
  static final float SCALE = 0.00390625f;

  static EmbeddedBroker broker;
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final List<List<Datum>> GREY_TRAIN = new ArrayList<>();
  static Datum firstTest;
  static NetParameter trained;

  /** Grey 8×8 pixels of sample i of class l: distinct per sample, so that a mix-up shows. */
  static Datum grey(int l, int i) {
    byte[] px = new byte[64];
    for (int p = 0; p < 64; p++) {
      px[p] = (byte) ((l * 80 + i * 7 + p * 3) % 256);
    }
    return Datum.newBuilder().setChannels(1).setHeight(8).setWidth(8).setData(ByteString.copyFrom(px)).setLabel(l)
        .build();
  }

  /** A 5 wide, 6 high colour PNG, its top-left pixel pure red for class 0, green for 1. */
  static Datum encoded(int l) {
    BufferedImage img = new BufferedImage(5, 6, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 5; x++) {
        img.setRGB(x, y, 0x202020 + x * 16 + y);
      }
    }
    img.setRGB(0, 0, l == 0 ? 0xff0000 : 0x00ff00);
    return Datum.newBuilder().setData(ByteString.copyFrom(ImageDatums.png(img))).setEncoded(true).setLabel(l).build();
  }

  @BeforeAll
  static void topics() throws Exception {
    broker = EmbeddedBroker.shared();
    NetParameter deploy = Prototxt.parseNet(DEPLOY, "tiny");
    try (Net net = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()))) {
      trained = net.toProto(false);
    }
    try (var p = new KafkaClients(broker.bootstrapServers(), Map.of()).producer("test")) {
      for (int l = 0; l < 3; l++) {
        GREY_TRAIN.add(new ArrayList<>());
      }
      // Class 2 has only 3 samples; classes 0 and 1 more than are shown.
      for (int i = 0; i < 10; i++) {
        for (int l = 0; l < 3; l++) {
          if (l == 2 && i >= 3) {
            continue;
          }
          Datum d = grey(l, i);
          GREY_TRAIN.get(l).add(d);
          p.send(new ProducerRecord<>(Topics.datums(GREY, "train"), "r" + i, d.toByteArray()));
        }
      }
      firstTest = grey(1, 99);
      p.send(new ProducerRecord<>(Topics.datums(GREY, "test"), "t0", firstTest.toByteArray()));
      p.send(new ProducerRecord<>(Topics.datums(GREY, "test"), "t1", grey(0, 98).toByteArray()));
      p.send(new ProducerRecord<>(Topics.DATASETS, GREY, DatasetSchema.newBuilder().setDataset(GREY)
          .addAllLabelNames(LABELS).putCountsBySplit("train", ClassCounts.newBuilder().addCount(10).addCount(10)
              .addCount(3).build()).build().toByteArray()));
      for (int l = 0; l < 2; l++) {
        p.send(new ProducerRecord<>(Topics.datums(RGB, "train"), "c" + l, encoded(l).toByteArray()));
      }
      p.send(new ProducerRecord<>(Topics.CHECKPOINTS, "tiny", Checkpoint.newBuilder().setRun("img-run")
          .setModel("tiny").setIteration(5).setCaffemodel(trained.toByteString())
          .setSha256(crema.proto.CheckpointParts.sha256(trained.toByteString(), ByteString.EMPTY))
          .setDeployPrototxt(DEPLOY).setNetPrototxt(NET).addAllLabelNames(LABELS)
          .setContract(ModelContract.newBuilder().setDataset(GREY)
              .setTransform(TransformationParameter.newBuilder().setScale(SCALE)))
          .build().toByteArray()));
      p.flush();
    }
  }

  static ApplicationContext start() {
    return ApplicationContext.run(EmbeddedServer.class, Map.of("micronaut.server.port", -1,
        "kafka.bootstrap.servers", broker.bootstrapServers(), "crema.visualizer.inference-url", "http://127.0.0.1:9"))
        .getApplicationContext();
  }

  static HttpResponse<byte[]> get(ApplicationContext ctx, String path) throws Exception {
    URI base = ctx.getBean(EmbeddedServer.class).getURI();
    return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(ApplicationContext ctx, String path) throws Exception {
    HttpResponse<byte[]> r = get(ctx, path);
    assertEquals(200, r.statusCode(), path + ": " + new String(r.body()));
    return ctx.getBean(JsonMapper.class).readValue(r.body(), Map.class);
  }

  static BufferedImage png(ApplicationContext ctx, String path) throws Exception {
    HttpResponse<byte[]> r = get(ctx, path);
    assertEquals(200, r.statusCode(), path + ": " + new String(r.body()));
    assertEquals("image/png", r.headers().firstValue("Content-Type").orElse(""), path);
    assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("img-src 'self'"), path);
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertTrue(img != null, path + " is a PNG");
    return img;
  }

  static void awaitCaughtUp(ApplicationContext ctx) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      String body = new String(get(ctx, "/api/overview").body());
      if (body.contains("\"caughtUp\":true") && body.contains("img-run") && body.contains(GREY)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the visualizer did not read the topics");
  }

  @Test
  @SuppressWarnings("unchecked")
  void samplesPerClassAreTheFirstOfEachLabelAsPngs() throws Exception {
    try (ApplicationContext ctx = start()) {
      awaitCaughtUp(ctx);
      Map<String, Object> s = json(ctx, "/api/datasets/" + GREY + "/samples");
      assertEquals(true, s.get("images"), s.toString());
      assertEquals(List.of(1, 8, 8), List.of(s.get("channels"), s.get("height"), s.get("width")), s.toString());
      List<Map<String, Object>> classes = (List<Map<String, Object>>) s.get("classes");
      assertEquals(3, classes.size(), s.toString());
      for (int l = 0; l < 3; l++) {
        assertEquals(l, ((Number) classes.get(l).get("label")).intValue());
        assertEquals(LABELS.get(l), classes.get(l).get("name"), "label names from the dataset schema");
        assertEquals(l == 2 ? 3 : DatasetSamples.PER_CLASS, ((Number) classes.get(l).get("count")).intValue());
      }
      for (int l = 0; l < 3; l++) {
        for (int k : new int[] {0, l == 2 ? 2 : 7}) {
          BufferedImage img = png(ctx, "/api/datasets/" + GREY + "/samples/" + l + "/" + k + ".png");
          assertEquals(8, img.getWidth());
          assertEquals(8, img.getHeight());
          byte[] px = GREY_TRAIN.get(l).get(k).getData().toByteArray();
          for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
              assertEquals(px[y * 8 + x] & 0xff, img.getRaster().getSample(x, y, 0),
                  "class " + l + " sample " + k + " pixel " + x + "," + y);
            }
          }
        }
      }
      assertEquals(404, get(ctx, "/api/datasets/" + GREY + "/samples/2/3.png").statusCode(), "class 2 has 3");
      assertEquals(404, get(ctx, "/api/datasets/" + GREY + "/samples/7/0.png").statusCode(), "no class 7");

      Map<String, Object> rgb = json(ctx, "/api/datasets/" + RGB + "/samples");
      assertEquals(true, rgb.get("images"), rgb.toString());
      assertEquals(true, rgb.get("encoded"), rgb.toString());
      List<Map<String, Object>> rc = (List<Map<String, Object>>) rgb.get("classes");
      assertEquals(List.of("0", "1"), rc.stream().map(c -> c.get("name")).toList(), "no schema: labels as numbers");
      for (int l = 0; l < 2; l++) {
        BufferedImage img = png(ctx, "/api/datasets/" + RGB + "/samples/" + l + "/0.png");
        assertEquals(5, img.getWidth());
        assertEquals(6, img.getHeight());
        assertEquals(l == 0 ? 0xff0000 : 0x00ff00, img.getRGB(0, 0) & 0xffffff, "colour kept, class " + l);
        assertEquals(0x202020 + 3 * 16 + 4, img.getRGB(3, 4) & 0xffffff);
      }

      // A dataset of feature rows (no Datum topic of images) has no pictures.
      Map<String, Object> none = json(ctx, "/api/datasets/no-such-set/samples");
      assertEquals(false, none.get("images"));
      assertEquals(List.of(), none.get("classes"));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void convFiltersAreVisSquareGrids() throws Exception {
    try (ApplicationContext ctx = start()) {
      awaitCaughtUp(ctx);
      Map<String, Object> w = json(ctx, "/api/runs/img-run/checkpoints/5");
      List<Map<String, Object>> layers = (List<Map<String, Object>>) w.get("layers");
      Map<String, Object> conv1 = layers.stream().filter(l -> l.get("name").equals("conv1")).findFirst().orElseThrow();
      int index = ((Number) conv1.get("index")).intValue();
      assertEquals("conv1", trained.getLayer(index).getName());
      assertEquals(true, ((List<Map<String, Object>>) conv1.get("params")).get(0).get("filters"));
      assertEquals(false, ((List<Map<String, Object>>) conv1.get("params")).get(1).get("filters"), "a bias is no bank");
      // 4 filters of 3×3: a 2 × 2 grid with one pixel between tiles.
      BufferedImage f = png(ctx, "/api/runs/img-run/checkpoints/5/filters/" + index + "/0.png");
      assertEquals(7, f.getWidth());
      assertEquals(7, f.getHeight());
      float[] v = new float[36];
      for (int i = 0; i < 36; i++) {
        v[i] = trained.getLayer(index).getBlobs(0).getData(i);
      }
      for (int t = 0; t < 4; t++) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int i = 0; i < 9; i++) {
          min = Math.min(min, v[t * 9 + i]);
          max = Math.max(max, v[t * 9 + i]);
        }
        for (int i = 0; i < 9; i++) {
          int x = (t % 2) * 4 + i % 3;
          int y = (t / 2) * 4 + i / 3;
          int expected = Math.round((v[t * 9 + i] - min) / (max - min) * 255);
          assertEquals(expected, f.getRGB(x, y) & 0xff, 1, "filter " + t + " value " + i + ", each filter scaled alone");
        }
        assertEquals(0xffffff, f.getRGB(3, 0) & 0xffffff, "white padding");
      }
      int conv2 = ((Number) layers.stream().filter(l -> l.get("name").equals("conv2")).findFirst().orElseThrow()
          .get("index")).intValue();
      BufferedImage f2 = png(ctx, "/api/runs/img-run/checkpoints/5/filters/" + conv2 + "/0.png");
      assertEquals(4 * 3 - 1, f2.getWidth(), "a row per filter, a column per input channel");
      assertEquals(6 * 3 - 1, f2.getHeight());
      int ip1 = ((Number) layers.stream().filter(l -> l.get("name").equals("ip1")).findFirst().orElseThrow()
          .get("index")).intValue();
      assertEquals(404, get(ctx, "/api/runs/img-run/checkpoints/5/filters/" + ip1 + "/0.png").statusCode(),
          "a 2-D blob has no filter picture");
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void featureMapsAreTheConvOutputsOfTheFirstTestSample() throws Exception {
    // What the net computes on the first test Datum, scaled by 1/256 as its TEST Data layer does.
    NetParameter deploy = Prototxt.parseNet(DEPLOY, "tiny");
    List<float[]> outputs = new ArrayList<>();
    try (Net net = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()))) {
      net.copyTrainedLayersFrom(trained);
      DatumTransformer.forTest(TransformationParameter.newBuilder().setScale(SCALE).build(), null)
          .transform(firstTest, net.blob("data").data(), 0);
      for (int i = 0; i < net.layers().size(); i++) {
        net.forwardLayer(i);
        if (net.layers().get(i).type().equals("Convolution")) {
          Blob top = net.topsOf(i).get(0);
          outputs.add(top.data().clone());
        }
      }
    }
    try (ApplicationContext ctx = start()) {
      awaitCaughtUp(ctx);
      Map<String, Object> f = json(ctx, "/api/runs/img-run/checkpoints/5/features");
      assertEquals(Topics.datums(GREY, "test"), f.get("topic"), "the TEST Data layer's topic");
      assertEquals(0, ((Number) f.get("offset")).intValue(), "its first Datum");
      assertEquals("one", f.get("labelName"));
      assertEquals(true, f.get("image"));
      List<Map<String, Object>> maps = (List<Map<String, Object>>) f.get("layers");
      assertEquals(List.of("conv1", "conv2"), maps.stream().map(m -> m.get("layer")).toList());
      assertEquals(List.of(1, 4, 6, 6), maps.get(0).get("shape"));
      assertEquals(List.of(1, 6, 2, 2), maps.get(1).get("shape"));
      BufferedImage sample = png(ctx, "/api/runs/img-run/checkpoints/5/features/sample.png");
      assertEquals(8, sample.getWidth());
      assertEquals(firstTest.getData().byteAt(9) & 0xff, sample.getRaster().getSample(1, 1, 0));
      // conv1: 4 maps of 6×6 in a 2 × 2 grid; conv2: 6 maps of 2×2 in a 3 × 3 grid.
      int[][] sizes = {{13, 13}, {8, 5}};
      int[][] dims = {{4, 6, 6}, {6, 2, 2}};
      for (int m = 0; m < 2; m++) {
        BufferedImage img = png(ctx, "/api/runs/img-run/checkpoints/5/features/" + m + ".png");
        assertEquals(sizes[m][0], img.getWidth(), "layer " + m);
        assertEquals(sizes[m][1], img.getHeight(), "layer " + m);
        assertEquals(sizes[m][0], ((Number) maps.get(m).get("width")).intValue());
        BufferedImage expected = VisSquare.maps(outputs.get(m), dims[m][0], dims[m][1], dims[m][2]);
        for (int y = 0; y < img.getHeight(); y++) {
          for (int x = 0; x < img.getWidth(); x++) {
            assertEquals(expected.getRGB(x, y) & 0xffffff, img.getRGB(x, y) & 0xffffff, "layer " + m + " at " + x + "," + y);
          }
        }
      }
      // conv1's output before relu1 (in place) ran: negative values are drawn too.
      float min = Float.MAX_VALUE;
      for (float x : outputs.get(0)) {
        min = Math.min(min, x);
      }
      assertTrue(min < 0, "xavier weights on positive pixels give some negative outputs: " + min);

      // A chosen sample: class 2's second.
      Map<String, Object> chosen = json(ctx, "/api/runs/img-run/checkpoints/5/features?label=2&k=1");
      assertEquals(Topics.datums(GREY, "train"), chosen.get("topic"));
      assertEquals("two", chosen.get("labelName"));
      BufferedImage s2 = png(ctx, "/api/runs/img-run/checkpoints/5/features/sample.png?label=2&k=1");
      assertEquals(GREY_TRAIN.get(2).get(1).getData().byteAt(0) & 0xff, s2.getRaster().getSample(0, 0, 0));
      assertFalse(chosen.get("offset").equals(f.get("offset")) && chosen.get("topic").equals(f.get("topic")));
      assertEquals(404, get(ctx, "/api/runs/img-run/checkpoints/5/features/2.png").statusCode(), "two conv layers");
      HttpResponse<byte[]> bad = get(ctx, "/api/runs/img-run/checkpoints/5/features?label=2&k=5");
      assertEquals(422, bad.statusCode());
      assertTrue(new String(bad.body()).contains("no sample 5 of class 2"), new String(bad.body()));
    }
  }

  @Test
  void colourFiltersAreDrawnInTheirColours() {
    // Two 3-channel 1×1 filters in Caffe's BGR order: the first all blue, the second red.
    float[] v = {1, 0, 0, 0, 0, 1};
    BufferedImage img = VisSquare.filters(v, new int[] {2, 3, 1, 1});
    assertEquals(3, img.getWidth());
    assertEquals(1, img.getHeight());
    assertArrayEquals(new int[] {0x0000ff, 0xffffff, 0xff0000}, new int[] {img.getRGB(0, 0) & 0xffffff,
        img.getRGB(1, 0) & 0xffffff, img.getRGB(2, 0) & 0xffffff}, "B plane first, white padding, R plane last");
  }

  @AfterAll
  static void done() {
    // The shared broker stops with the JVM.
  }
}
