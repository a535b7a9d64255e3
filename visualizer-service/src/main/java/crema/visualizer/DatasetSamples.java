package crema.visualizer;

import caffe.Caffe.Datum;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.KafkaClients;
import crema.bus.Topics;
import crema.engine.data.ImageDatums;
import io.micronaut.context.annotation.Requires;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Sample images per class of an image dataset, the first few of each label found on its Datum
 * topics ({@code crema.datums.<dataset>.<split>}: train first, then test, then any other split).
 * Only where the samples lie is kept (topic, partition, offset: a few bytes each); each picture is
 * read back from Kafka when the page asks for it.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Singleton
public class DatasetSamples {
  /** Samples shown per class. */
  static final int PER_CLASS = 8;
  /** Records a listing reads at most, looking for every class's samples. */
  static final int MAX_SCANNED = 20_000;
  /** Datasets whose sample places are kept. */
  static final int KEPT = 16;

  /** Where one sample's record lies. */
  record Ref(String topic, int partition, long offset) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record ClassSamples(int label, String name, int count) {}

  /**
   * What the page draws: {@code images} false when the dataset's Datums are no images (feature
   * rows), {@code classes} by label with how many samples each has ({@code k} = 0 … count − 1).
   */
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Samples(String dataset, boolean images, int channels, int height, int width, boolean encoded,
      List<String> splits, List<ClassSamples> classes) {}

  private record Index(Samples samples, Map<Integer, List<Ref>> refs, Map<TopicPartition, Long> ends, boolean full) {}

  private final KafkaClients clients;
  private final Map<String, Index> cache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Index> eldest) {
      return size() > KEPT;
    }
  };
  private KafkaConsumer<String, byte[]> reader;

  public DatasetSamples(KafkaClients clients) {
    this.clients = clients;
  }

  /**
   * The dataset's samples; {@code labels} are the label names the pipeline recorded (may be empty:
   * labels are then shown as numbers).
   */
  synchronized Samples samples(String dataset, List<String> labels) {
    return index(dataset, labels).samples();
  }

  /** Sample {@code k} of class {@code label}, as its Datum; empty when there is none. */
  synchronized Optional<Datum> datum(String dataset, List<String> labels, int label, int k) {
    List<Ref> refs = known(dataset, labels).refs().getOrDefault(label, List.of());
    if (k < 0 || k >= refs.size()) {
      return Optional.empty();
    }
    return Optional.of(read(refs.get(k)));
  }

  /** Where sample {@code k} of class {@code label} lies; empty when there is none. */
  synchronized Optional<Ref> ref(String dataset, List<String> labels, int label, int k) {
    List<Ref> refs = known(dataset, labels).refs().getOrDefault(label, List.of());
    return k < 0 || k >= refs.size() ? Optional.empty() : Optional.of(refs.get(k));
  }

  /** Sample {@code k} of class {@code label} as a PNG of its own size; empty when there is none. */
  Optional<byte[]> png(String dataset, List<String> labels, int label, int k) {
    return datum(dataset, labels, label, k).map(d -> ImageDatums.png(ImageDatums.toImage(d)));
  }

  /** The Datum at {@code ref}. */
  synchronized Datum read(Ref ref) {
    if (reader == null) {
      reader = clients.consumer("crema-visualizer-samples", Map.of("max.poll.records", 1));
    }
    return parse(readAt(reader, ref), ref);
  }

  @PreDestroy
  synchronized void close() {
    if (reader != null) {
      reader.close();
    }
  }

  /**
   * Whether a Datum is an image the page can draw: 1 or 3 planes of uint8 pixels (more than one
   * pixel), or an encoded PNG/JPEG.
   */
  static boolean isImage(Datum d) {
    if (d.getEncoded()) {
      try {
        ImageDatums.toImage(d);
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    int c = d.getChannels();
    long size = (long) c * d.getHeight() * d.getWidth();
    return (c == 1 || c == 3) && d.getHeight() >= 1 && d.getWidth() >= 1 && size > c && d.getData().size() == size;
  }

  /** The dataset's Datum topics, train first, then test, then the others by name. */
  static List<String> datumTopics(Map<String, List<PartitionInfo>> all, String dataset) {
    String prefix = Topics.datums(dataset, "x");
    prefix = prefix.substring(0, prefix.length() - 1);
    List<String> out = new ArrayList<>();
    for (String t : all.keySet()) {
      String split = t.startsWith(prefix) ? t.substring(prefix.length()) : "";
      if (split.matches("[A-Za-z0-9_-]+")) {
        out.add(t);
      }
    }
    out.sort((a, b) -> {
      int ra = rank(a);
      int rb = rank(b);
      return ra != rb ? Integer.compare(ra, rb) : a.compareTo(b);
    });
    return out;
  }

  private static int rank(String topic) {
    return topic.endsWith(".train") ? 0 : topic.endsWith(".test") ? 1 : 2;
  }

  /**
   * The places as the last listing found them (a picture asked for is one the page was listed),
   * else found now: a page of pictures does not look at the topics once per picture.
   */
  private Index known(String dataset, List<String> labels) {
    Index have = cache.get(dataset);
    return have != null && have.samples().images() ? have : index(dataset, labels);
  }

  private Index index(String dataset, List<String> labels) {
    Topics.checkName(dataset, "dataset");
    Index have = cache.get(dataset);
    if (have != null && have.full() && have.samples().classes().size() >= labels.size()) {
      return have;
    }
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-visualizer-samples-scan",
        Map.of("max.poll.records", 500))) {
      List<String> topics = datumTopics(c.listTopics(Duration.ofSeconds(10)), dataset);
      List<TopicPartition> tps = new ArrayList<>();
      for (String t : topics) {
        for (PartitionInfo p : c.partitionsFor(t, Duration.ofSeconds(10))) {
          tps.add(new TopicPartition(t, p.partition()));
        }
      }
      Map<TopicPartition, Long> ends = tps.isEmpty() ? Map.of() : c.endOffsets(tps);
      if (have != null && have.ends().equals(ends) && have.samples().classes().size() >= labels.size()) {
        return have;
      }
      Index made = scan(c, dataset, labels, topics, ends);
      cache.put(dataset, made);
      return made;
    }
  }

  private Index scan(KafkaConsumer<String, byte[]> c, String dataset, List<String> labels, List<String> topics,
      Map<TopicPartition, Long> ends) {
    Map<Integer, List<Ref>> refs = new TreeMap<>();
    Datum first = null;
    boolean images = false;
    int scanned = 0;
    List<String> splits = new ArrayList<>();
    scanning:
    for (String topic : topics) {
      List<TopicPartition> tps = ends.keySet().stream().filter(tp -> tp.topic().equals(topic))
          .sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      splits.add(topic.substring(topic.lastIndexOf('.') + 1));
      long deadline = System.currentTimeMillis() + 30_000;
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp)) && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.value() == null || r.offset() >= ends.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          Datum d;
          try {
            d = Datum.parseFrom(r.value());
          } catch (InvalidProtocolBufferException e) {
            continue;
          }
          if (first == null) {
            first = d;
            images = isImage(d);
            if (!images) {
              break scanning;
            }
          }
          List<Ref> list = refs.computeIfAbsent(d.getLabel(), k -> new ArrayList<>());
          if (list.size() < PER_CLASS && d.getLabel() >= 0) {
            list.add(new Ref(r.topic(), r.partition(), r.offset()));
          }
          if (++scanned >= MAX_SCANNED || full(refs, labels.size())) {
            break scanning;
          }
        }
      }
    }
    refs.keySet().removeIf(l -> l < 0);
    List<ClassSamples> classes = new ArrayList<>();
    if (images) {
      for (int l = 0; l < labels.size(); l++) {
        refs.putIfAbsent(l, List.of());
      }
      refs.forEach((l, list) -> classes.add(new ClassSamples(l, l < labels.size() ? labels.get(l) : Integer.toString(l),
          list.size())));
    } else {
      refs.clear();
    }
    int ch = 0;
    int h = 0;
    int w = 0;
    if (images) {
      var img = ImageDatums.toImage(first);
      Datum raw = ImageDatums.decode(first);
      ch = raw.getChannels();
      h = img.getHeight();
      w = img.getWidth();
    }
    Samples s = new Samples(dataset, images, ch, h, w, first != null && first.getEncoded(), List.copyOf(splits),
        List.copyOf(classes));
    return new Index(s, refs, Map.copyOf(ends), first != null && (!images || full(refs, labels.size())));
  }

  private static boolean full(Map<Integer, List<Ref>> refs, int labels) {
    if (labels == 0) {
      return false;
    }
    for (int l = 0; l < labels; l++) {
      if (refs.getOrDefault(l, List.of()).size() < PER_CLASS) {
        return false;
      }
    }
    return true;
  }

  /** The record at {@code ref}, read with {@code c} (assigned to its partition alone). */
  static byte[] readAt(KafkaConsumer<String, byte[]> c, Ref ref) {
    TopicPartition tp = new TopicPartition(ref.topic(), ref.partition());
    c.assign(List.of(tp));
    c.seek(tp, ref.offset());
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
        if (r.offset() == ref.offset() && r.value() != null) {
          return r.value();
        }
        if (r.offset() > ref.offset()) {
          throw new IllegalStateException(tp + "@" + ref.offset() + " is gone (deleted by retention?)");
        }
      }
    }
    throw new IllegalStateException("the record at " + tp + "@" + ref.offset()
        + " could not be read back (deleted by retention?)");
  }

  static Datum parse(byte[] value, Ref ref) {
    try {
      return Datum.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(ref.topic() + "-" + ref.partition() + "@" + ref.offset() + " is not a Datum: "
          + e.getMessage());
    }
  }
}
