package crema.ingest;

import crema.bus.ConsumerLoop;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicSetup;
import crema.bus.Topics;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;

/**
 * CSV lines arriving on {@code crema.raw}, one line per record (key = source id). Headers name
 * what the HTTP query names: {@code dataset} and {@code columns} (the CSV header line) are
 * required; {@code label}, {@code id}, {@code log1p}, {@code split}, {@code labels} are optional.
 * Each poll's records of one source and options go through the same conversion as an upload; a
 * record without the required headers is itself a dead letter. The consumer group commits after
 * the converted records are acknowledged.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.ingest", notEquals = "false")
@Context
public class RawLines {
  private final KafkaClients clients;
  private final DatasetIngest ingest;
  private ConsumerLoop loop;
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  public RawLines(KafkaClients clients, DatasetIngest ingest) {
    this.clients = clients;
    this.ingest = ingest;
  }

  @PostConstruct
  void start() {
    topics.ensureAtStart(TopicKind.RAW.spec(), TopicKind.DATASETS.spec(),
        TopicKind.DEAD_LETTER.spec());
    loop = ConsumerLoop.start("crema.raw consumer", () -> clients.consumer("crema-ingest-raw",
        Map.of("group.id", "crema-ingest-raw", "enable.auto.commit", false)), this::consume);
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private void consume(KafkaConsumer<String, byte[]> c, BooleanSupplier running) {
    c.subscribe(List.of(Topics.RAW));
    while (running.getAsBoolean()) {
      var records = c.poll(Duration.ofMillis(200));
      ConsumerRecord<String, byte[]> first = null;
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      for (var r : records) {
        if (first != null && !sameUpload(first, r)) {
          flush(first, body);
          body.reset();
          first = null;
        }
        if (first == null) {
          first = r;
          String columns = header(r, "columns");
          body.writeBytes((columns == null ? "" : columns).getBytes(StandardCharsets.UTF_8));
          body.write('\n');
        }
        body.writeBytes(r.value());
        body.write('\n');
      }
      if (first != null) {
        flush(first, body);
      }
      if (!records.isEmpty()) {
        c.commitSync();
      }
    }
  }

  private static boolean sameUpload(ConsumerRecord<String, byte[]> a, ConsumerRecord<String, byte[]> b) {
    for (String h : new String[] {"dataset", "columns", "label", "id", "log1p", "split", "labels"}) {
      if (!Objects.equals(header(a, h), header(b, h))) {
        return false;
      }
    }
    return Objects.equals(a.key(), b.key());
  }

  private void flush(ConsumerRecord<String, byte[]> first, ByteArrayOutputStream body) {
    String dataset = header(first, "dataset");
    String labels = header(first, "labels");
    var request = new DatasetIngest.Request(dataset == null ? "" : dataset, "kafka:" + first.key(),
        header(first, "label"), header(first, "id"), "true".equals(header(first, "log1p")), header(first, "split"), 0, 0,
        labels == null ? List.of() : Arrays.stream(labels.split(",")).map(String::strip).toList());
    try {
      // DatasetIngest logs the upload's counts, as it does for an HTTP request.
      ingest.ingest(request, new ByteArrayInputStream(body.toByteArray()));
    } catch (Exception e) {
      // Missing or bad headers: the lines cannot be read at all; each becomes a dead letter.
      ingest.rejectAll(request, body.toByteArray(), e.getMessage());
    }
  }

  @PreDestroy
  void stop() {
    loop.close();
  }
}
