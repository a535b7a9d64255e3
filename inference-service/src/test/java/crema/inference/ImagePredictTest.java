package crema.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import com.google.protobuf.ByteString;
import crema.bus.CheckpointDigest;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.Net;
import crema.engine.data.ImageDatums;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import crema.proto.ModelContract;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A tiny conv net over 1×4×4 images, served from a checkpoint on a real broker, answers an uploaded
 * PNG exactly as it answers the same pixels sent as a CSV row: the contract's scale, mean and centre
 * crop apply to both.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImagePredictTest implements TestPropertyProvider {
  @Inject
  @Client("/")
  HttpClient http;

  @Inject
  Models models;

  @Override
  public Map<String, String> getProperties() {
    return Map.of("micronaut.server.port", "-1", "kafka.bootstrap.servers",
        EmbeddedBroker.shared().bootstrapServers());
  }

  /** Input 1×1×S×S → Convolution (2 maps, 2×2) → ReLU → InnerProduct (3) → Softmax. */
  static String deploy(int side) {
    return "name: 'tiny'\n"
        + "layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 1 dim: " + side
        + " dim: " + side + " } } }\n"
        + "layer { name: 'conv' type: 'Convolution' bottom: 'data' top: 'conv' convolution_param { num_output: 2"
        + " kernel_size: 2 weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'constant' value: 0.1 } } }\n"
        + "layer { name: 'relu' type: 'ReLU' bottom: 'conv' top: 'conv' }\n"
        + "layer { name: 'ip' type: 'InnerProduct' bottom: 'conv' top: 'ip' inner_product_param { num_output: 3"
        + " weight_filler { type: 'gaussian' std: 0.5 } } }\n"
        + "layer { name: 'prob' type: 'Softmax' bottom: 'ip' top: 'prob' }\n";
  }

  static Checkpoint checkpoint(String model, String deploy, ModelContract contract) {
    NetParameter p = Prototxt.parseNet(deploy, model);
    Net net = new Net(p, Net.state(p, Phase.TEST, 0, List.of()));
    byte[] weights = net.toProto(false).toByteArray();
    byte[] state = new byte[0];
    return Checkpoint.newBuilder().setModel(model).setRun("r-" + model).setIteration(1).setDeployPrototxt(deploy)
        .setCaffemodel(ByteString.copyFrom(weights)).setSolverstate(ByteString.copyFrom(state))
        .setSha256(CheckpointDigest.sha256(weights, state)).setContract(contract)
        .addAllLabelNames(contract.getLabelNamesList()).build();
  }

  static final int[] PIXELS = {0, 17, 34, 51, 200, 180, 160, 140, 9, 99, 199, 255, 30, 60, 90, 120};

  static byte[] png() {
    BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 16; i++) {
      image.getRaster().setSample(i % 4, i / 4, 0, PIXELS[i]);
    }
    return ImageDatums.png(image);
  }

  static String csv(List<String> columns) {
    StringBuilder s = new StringBuilder(String.join(",", columns)).append('\n');
    for (int i = 0; i < 16; i++) {
      s.append(i == 0 ? "" : ",").append(PIXELS[i]);
    }
    return s.append('\n').toString();
  }

  @BeforeAll
  void publish() throws Exception {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      names.add("pixel" + i);
    }
    // As ingest's image schema makes it: features pixel0..15, no image shape: C,H,W from the net.
    ModelContract plain = ModelContract.newBuilder().setDataset("digits").addAllFeatureNames(names)
        .addAllLabelNames(List.of("a", "b", "c")).setTransform(caffe.Caffe.TransformationParameter.newBuilder()
            .setScale(1f / 255).addMeanValue(100)).build();
    // An image shape in the contract and a TEST centre crop to 3×3.
    ModelContract cropped = plain.toBuilder().addAllInputShape(List.of(1, 4, 4))
        .setTransform(plain.getTransform().toBuilder().setCropSize(3)).build();
    KafkaClients clients = new KafkaClients(EmbeddedBroker.shared().bootstrapServers(), Map.of());
    try (var p = clients.producer("checkpoint-writer")) {
      p.send(new ProducerRecord<>(Topics.CHECKPOINTS, "conv", checkpoint("conv", deploy(4), plain).toByteArray())).get();
      p.send(new ProducerRecord<>(Topics.CHECKPOINTS, "cropped", checkpoint("cropped", deploy(3), cropped)
          .toByteArray())).get();
    }
    long deadline = System.currentTimeMillis() + 60_000;
    while ((models.get("conv").isEmpty() || models.get("cropped").isEmpty()) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(models.get("conv").isPresent() && models.get("cropped").isPresent(), "both models are served");
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> prediction(Map<?, ?> reply) {
    return ((List<Map<String, Object>>) reply.get("predictions")).get(0);
  }

  @Test
  void anUploadedPngIsAnsweredAsTheSamePixelsSentAsACsvRow() {
    for (String model : List.of("conv", "cropped")) {
      List<String> columns = new java.util.ArrayList<>();
      for (int i = 0; i < 16; i++) {
        columns.add("pixel" + i);
      }
      Map<?, ?> fromCsv = http.toBlocking().retrieve(HttpRequest.POST("/v1/models/" + model + ":predict", csv(columns))
          .contentType(MediaType.of("text/csv")), Map.class);
      Map<?, ?> fromPng = http.toBlocking().retrieve(HttpRequest.POST("/v1/models/" + model + ":predict?label=b", png())
          .contentType(MediaType.IMAGE_PNG_TYPE), Map.class);
      Map<String, Object> a = prediction(fromCsv);
      Map<String, Object> b = prediction(fromPng);
      assertEquals(a.get("probabilities"), b.get("probabilities"), model);
      assertEquals(a.get("label"), b.get("label"), model);
      assertEquals(List.of("a", "b", "c"), List.copyOf(((Map<String, ?>) b.get("probabilities")).keySet()));
      assertEquals(1, ((Number) fromPng.get("labelled")).intValue());
    }
    // JSON instances of the raw pixels go the same way.
    Map<?, ?> json = http.toBlocking().retrieve(HttpRequest.POST("/v1/models/conv:predict",
        Map.of("instances", List.of(java.util.Arrays.stream(PIXELS).boxed().toList())))
        .contentType(MediaType.APPLICATION_JSON_TYPE), Map.class);
    assertEquals(prediction(json).get("probabilities"), prediction(http.toBlocking().retrieve(
        HttpRequest.POST("/v1/models/conv:predict", png()).contentType(MediaType.IMAGE_PNG_TYPE), Map.class))
        .get("probabilities"));
    Map<?, ?> view = http.toBlocking().retrieve(HttpRequest.GET("/v1/models/conv"), Map.class);
    assertEquals(List.of(1, 4, 4), view.get("imageShape"));
  }

  @Test
  void aBodyThatIsNoImageIsA400() {
    var e = assertThrows(HttpClientResponseException.class, () -> http.toBlocking().retrieve(
        HttpRequest.POST("/v1/models/conv:predict", "not a png".getBytes()).contentType(MediaType.IMAGE_PNG_TYPE),
        Map.class));
    assertEquals(400, e.getStatus().getCode());
    assertTrue(e.getResponse().getBody(Map.class).map(m -> String.valueOf(m.get("error"))).orElse("")
        .contains("not an image"));
  }
}
