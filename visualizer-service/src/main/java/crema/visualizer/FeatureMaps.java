package crema.visualizer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.Datum;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.fasterxml.jackson.annotation.JsonInclude;
import crema.bus.KafkaClients;
import crema.bus.TopicLog;
import crema.bus.Topics;
import crema.engine.Blob;
import crema.engine.Net;
import crema.engine.contract.ModelContract;
import crema.engine.data.DatumTransformer;
import crema.engine.data.ImageDatums;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import io.micronaut.context.annotation.Requires;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * One sample's feature maps under a checkpoint: the sample (the first Datum of the run's TEST
 * data, or a chosen sample of its dataset) goes through the checkpoint's deploy net in the TEST
 * phase, prepared as the TEST Data layer's transform_param prepares it (the model contract's),
 * and each Convolution layer's output, as it leaves the layer, is drawn as a vis_square grid of
 * its channels. Computed when the page asks; the newest few results are kept.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Singleton
public class FeatureMaps {
  /** Layer types whose outputs are drawn. */
  static final List<String> TYPES = List.of("Convolution", "Deconvolution");

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record MapInfo(int index, String layer, String type, String top, int[] shape, int width, int height) {}

  /**
   * What was computed: the sample (its place, label, whether it is an image), the net input's
   * shape, and per conv layer its output's shape and picture size; picture {@code i} is
   * {@code layers[i]}.
   */
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Features(String run, int iteration, String dataset, String topic, int partition, long offset, int label,
      String labelName, boolean image, int[] input, List<MapInfo> layers) {}

  /** Which sample: null for the first TEST Datum, else sample k of a class (the dataset's samples). */
  record Choice(int label, int k) {}

  record Computed(Features features, byte[] sample, List<byte[]> pngs) {}

  private final KafkaClients clients;
  private final CheckpointWeights checkpoints;
  private final DatasetSamples samples;
  private final Map<String, Computed> cache;

  public FeatureMaps(KafkaClients clients, CheckpointWeights checkpoints, DatasetSamples samples,
      VisualizerConfig config) {
    this.clients = clients;
    this.checkpoints = checkpoints;
    this.samples = samples;
    int keep = Math.max(1, config.getCachedCheckpoints());
    this.cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Computed> eldest) {
        return size() > keep;
      }
    };
  }

  synchronized Computed features(String run, Run.CheckpointRef ref, Choice choice,
      Function<String, List<String>> labelsOf) {
    String key = run + "@" + ref.iteration() + "#" + ref.sha256() + "|" + choice;
    Computed c = cache.get(key);
    if (c == null) {
      c = compute(run, checkpoints.checkpoint(ref), choice, labelsOf);
      cache.put(key, c);
    }
    return c;
  }

  /** The dataset a checkpoint's run read, if known: its contract's, else its TEST Data layer topic's. */
  static String dataset(Checkpoint cp) {
    if (!cp.getContract().getDataset().isEmpty()) {
      return cp.getContract().getDataset();
    }
    String topic = testTopic(cp);
    return topic == null ? null : TopicLog.datasetOf(topic).orElse(null);
  }

  /** The Kafka topic of the run's TEST Data layer, or null. */
  static String testTopic(Checkpoint cp) {
    if (cp.getNetPrototxt().isEmpty()) {
      return null;
    }
    LayerParameter data = ModelContract.testDataLayer(Prototxt.parseNet(cp.getNetPrototxt(), "checkpoint net"));
    return data != null && data.hasDataParam() && data.getDataParam().getBackend() == DB.KAFKA
        ? data.getDataParam().getSource() : null;
  }

  private Computed compute(String run, Checkpoint cp, Choice choice, Function<String, List<String>> labelsOf) {
    if (cp.getDeployPrototxt().isEmpty()) {
      throw new IllegalArgumentException("the checkpoint carries no deploy net");
    }
    String dataset = dataset(cp);
    List<String> datasetLabels = dataset == null ? List.of() : labelsOf.apply(dataset);
    DatasetSamples.Ref where;
    if (choice != null) {
      if (dataset == null) {
        throw new IllegalArgumentException("the run's dataset is not known: no sample can be chosen");
      }
      where = samples.ref(dataset, datasetLabels, choice.label(), choice.k()).orElseThrow(() ->
          new IllegalArgumentException("dataset '" + dataset + "' has no sample " + choice.k() + " of class "
              + choice.label()));
    } else {
      where = firstSample(cp, dataset);
    }
    Datum stored = samples.read(where);
    Datum datum = ImageDatums.decode(stored);
    boolean image = DatasetSamples.isImage(stored);

    NetParameter deploy = Prototxt.parseNet(cp.getDeployPrototxt(), "deploy net of run " + run);
    NetParameter weights = BinaryProto.parseNet(cp.getCaffemodel().toByteArray(), "checkpoint of run " + run);
    DatumTransformer transformer = DatumTransformer.forTest(transform(cp), mean(cp));
    transformer.check(datum, () -> where.topic() + "-" + where.partition() + "@" + where.offset());
    int[] item = transformer.itemShape(datum);
    List<MapInfo> infos = new ArrayList<>();
    List<byte[]> pngs = new ArrayList<>();
    int[] inputShape;
    try (Net net = new Net(deploy, Net.state(deploy, Phase.TEST, 0, List.of()))) {
      if (net.inputNames().size() != 1) {
        throw new IllegalArgumentException("the deploy net needs exactly one Input blob, found " + net.inputNames());
      }
      net.copyTrainedLayersFrom(weights);
      Blob input = net.blob(net.inputNames().get(0));
      int[] shape = new int[item.length + 1];
      shape[0] = 1;
      System.arraycopy(item, 0, shape, 1, item.length);
      int[] want = Arrays.copyOfRange(input.shape(), 1, input.numAxes());
      if (!Arrays.equals(want, item)) {
        throw new IllegalArgumentException("the sample is " + Arrays.toString(item) + " after transform_param; the net's"
            + " input takes " + Arrays.toString(want));
      }
      input.reshape(shape);
      net.reshape();
      inputShape = input.shape();
      transformer.transform(datum, input.data(), 0);
      for (int i = 0; i < net.layers().size(); i++) {
        net.forwardLayer(i);
        var layer = net.layers().get(i);
        if (!TYPES.contains(layer.type()) || net.topsOf(i).isEmpty()) {
          continue;
        }
        // Drawn as it leaves the layer: an in-place ReLU after it has not run yet.
        Blob top = net.topsOf(i).get(0);
        if (top.numAxes() != 4) {
          continue;
        }
        int[] s = top.shape();
        var img = VisSquare.maps(top.data(), s[1], s[2], s[3]);
        infos.add(new MapInfo(infos.size(), layer.name(), layer.type(), layer.param().getTop(0), s, img.getWidth(),
            img.getHeight()));
        pngs.add(ImageDatums.png(img));
      }
    }
    List<String> names = cp.getLabelNamesCount() > 0 ? cp.getLabelNamesList() : datasetLabels;
    int label = stored.getLabel();
    String labelName = label >= 0 && label < names.size() ? names.get(label) : Integer.toString(label);
    byte[] sample = image ? ImageDatums.png(ImageDatums.toImage(stored)) : null;
    Features f = new Features(run, cp.getIteration(), dataset, where.topic(), where.partition(), where.offset(), label,
        labelName, image, inputShape, List.copyOf(infos));
    return new Computed(f, sample, List.copyOf(pngs));
  }

  /** The TEST Data layer's transform_param as the contract carries it (the net's when it carries none). */
  private static TransformationParameter transform(Checkpoint cp) {
    if (cp.getContract().hasTransform()) {
      return cp.getContract().getTransform();
    }
    if (!cp.getNetPrototxt().isEmpty()) {
      LayerParameter data = ModelContract.testDataLayer(Prototxt.parseNet(cp.getNetPrototxt(), "checkpoint net"));
      if (data != null && data.hasTransformParam()) {
        // A mean_file names a file on the trainer's machine: only a contract carries its values.
        return data.getTransformParam().toBuilder().clearMeanFile().clearMirror().build();
      }
    }
    return TransformationParameter.getDefaultInstance();
  }

  private static float[] mean(Checkpoint cp) {
    if (cp.getContract().getMeanCount() == 0) {
      return null;
    }
    float[] m = new float[cp.getContract().getMeanCount()];
    for (int i = 0; i < m.length; i++) {
      m[i] = cp.getContract().getMean(i);
    }
    return m;
  }

  /** The first Datum of the run's TEST data (its TEST Data layer's topic, else the dataset's test or train split). */
  private DatasetSamples.Ref firstSample(Checkpoint cp, String dataset) {
    List<String> topics = new ArrayList<>();
    String test = testTopic(cp);
    if (test != null) {
      topics.add(test);
    }
    if (dataset != null) {
      topics.add(Topics.datums(dataset, "test"));
      topics.add(Topics.datums(dataset, "train"));
    }
    if (topics.isEmpty()) {
      throw new IllegalArgumentException("the run reads no Kafka topic and names no dataset: there is no sample to"
          + " show");
    }
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-visualizer-features")) {
      for (String topic : topics) {
        List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofSeconds(10));
        if (parts == null || parts.isEmpty()) {
          continue;
        }
        List<TopicPartition> tps = parts.stream().map(p -> new TopicPartition(topic, p.partition()))
            .sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList();
        Map<TopicPartition, Long> begin = c.beginningOffsets(tps);
        Map<TopicPartition, Long> end = c.endOffsets(tps);
        for (TopicPartition tp : tps) {
          if (begin.get(tp) < end.get(tp)) {
            return new DatasetSamples.Ref(topic, tp.partition(), begin.get(tp));
          }
        }
      }
    }
    throw new IllegalArgumentException("no Datum on " + String.join(", ", topics) + " yet");
  }
}
