package crema.client;

import crema.proto.Checkpoint;
import crema.proto.CheckpointAssembler;
import crema.proto.PredictRequest;
import crema.proto.PredictResult;
import crema.proto.Row;
import crema.proto.TrainEvent;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A client of a Crema pipeline: HTTP to its services, Kafka to its topics. Immutable and thread
 * safe; build one with {@link #builder()}, share it, close it when done (it closes its producer).
 *
 * <pre>{@code
 * try (CremaClient crema = CremaClient.builder().bootstrapServers("localhost:9092")
 *     .inference(URI.create("http://localhost:8083")).apiToken(System.getenv("CREMA_API_TOKEN")).build();
 *     Subscription<CheckpointRecord> s = crema.checkpoints(CheckpointQuery.builder().model("otto").follow(true).build())) {
 *   for (CheckpointRecord c; (c = s.next(Duration.ofDays(1))) != null;) {
 *     c.writeTo(Path.of("models"));
 *   }
 * }
 * }</pre>
 */
public final class CremaClient implements AutoCloseable {
  /** The topics' default names. */
  public static final String CHECKPOINTS = "crema.checkpoints";
  public static final String TRAIN_EVENTS = "crema.train-events";
  public static final String PREDICT_REQUESTS = "crema.predict-requests";
  public static final String PREDICTIONS = "crema.predictions";

  private final String bootstrapServers;
  private final Map<String, Object> kafka;
  private final URI ingest;
  private final URI trainer;
  private final URI inference;
  private final String apiToken;
  private final Duration timeout;
  private final String clientId;
  private final HttpClient http;
  private KafkaProducer<String, byte[]> producer;

  private CremaClient(Builder b) {
    this.bootstrapServers = b.bootstrapServers;
    this.kafka = Map.copyOf(b.kafka);
    this.ingest = b.ingest;
    this.trainer = b.trainer;
    this.inference = b.inference;
    this.apiToken = b.apiToken == null || b.apiToken.isBlank() ? null : b.apiToken;
    this.timeout = b.timeout;
    this.clientId = b.clientId;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this client's settings. */
  public Builder newBuilder() {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.kafka.putAll(kafka);
    b.ingest = ingest;
    b.trainer = trainer;
    b.inference = inference;
    b.apiToken = apiToken;
    b.timeout = timeout;
    b.clientId = clientId;
    return b;
  }

  // ---------------------------------------------------------------- HTTP

  /** {@code POST /v1/datasets/{name}/rows} on the ingest service. */
  public IngestResult ingest(IngestRequest request) {
    StringBuilder path = new StringBuilder("/v1/datasets/").append(encode(request.dataset())).append("/rows");
    char sep = '?';
    for (Map.Entry<String, String> e : request.query().entrySet()) {
      path.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
      sep = '&';
    }
    return IngestResult.of(Json.object(send(require(ingest, "ingest"), "POST", path.toString(), "text/csv",
        HttpRequest.BodyPublishers.ofByteArray(request.body()))));
  }

  /** {@code POST /v1/jobs} on the trainer: the job as accepted (its id is the run id). */
  public JobInfo submit(JobSpec job) {
    return JobInfo.of(Json.object(send(require(trainer, "trainer"), "POST", "/v1/jobs", "application/json",
        HttpRequest.BodyPublishers.ofString(job.toJson()))));
  }

  /** {@code GET /v1/jobs/{id}} on the trainer. */
  public JobInfo job(String id) {
    return JobInfo.of(Json.object(send(require(trainer, "trainer"), "GET", "/v1/jobs/" + encode(id), null, null)));
  }

  /**
   * {@code POST /v1/models/{name}:predict} on the inference service: rows of a CSV with a header,
   * as ingested (columns by name, the id column echoed, the label column scored).
   */
  public Predictions predict(String model, String csv) {
    return Predictions.of(Json.object(send(require(inference, "inference"), "POST",
        "/v1/models/" + encode(model) + ":predict", "text/csv", HttpRequest.BodyPublishers.ofString(csv))));
  }

  private static URI require(URI base, String service) {
    if (base == null) {
      throw new IllegalStateException("this client has no URL for the " + service + " service");
    }
    return base;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String send(URI base, String method, String path, String type, HttpRequest.BodyPublisher body) {
    HttpRequest.Builder r = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body).header("Accept", "application/json");
    if (type != null) {
      r.header("Content-Type", type);
    }
    if (apiToken != null) {
      r.header("Authorization", "Bearer " + apiToken);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new CremaException(method + " " + base.resolve(path) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CremaException(method + " " + base.resolve(path) + ": interrupted", e);
    }
    if (resp.statusCode() / 100 != 2) {
      String message = resp.body();
      try {
        Object error = Json.object(resp.body()).get("error");
        message = error == null ? message : error.toString();
      } catch (IllegalArgumentException e) {
        // Not JSON: the body as it is.
      }
      throw new CremaException(resp.statusCode(), method + " " + path + ": " + resp.statusCode() + " " + message);
    }
    return resp.body();
  }

  static double number(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  // ---------------------------------------------------------------- Kafka

  /**
   * The consumer settings: the common ones (security), no group, no auto-commit, Kafka's default
   * fetch sizes (a checkpoint larger than a record comes in parts).
   */
  Map<String, Object> consumerConfig() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put("bootstrap.servers", requireKafka());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    // A follower hears of a new record within ~100 ms, not the default 500.
    p.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
    return p;
  }

  private String requireKafka() {
    if (bootstrapServers == null) {
      throw new IllegalStateException("this client has no bootstrap servers");
    }
    return bootstrapServers;
  }

  private KafkaConsumer<String, byte[]> consumer() {
    return new KafkaConsumer<>(consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * The checkpoints {@code query} asks for, from {@code crema.checkpoints}, each verified (its
   * sha256 over caffemodel then solverstate; one in parts reassembled from them, each part and the
   * whole checked against its manifest's sha256); one that does not verify is skipped and reported
   * to {@code onRejected}. Parts that no manifest follows (a torn write) are never delivered.
   */
  public Subscription<CheckpointRecord> checkpoints(CheckpointQuery query, Consumer<String> onRejected) {
    return checkpoints(CHECKPOINTS, query, onRejected);
  }

  /** {@link #checkpoints(CheckpointQuery, Consumer)}, rejections ignored but counted. */
  public Subscription<CheckpointRecord> checkpoints(CheckpointQuery query) {
    return checkpoints(query, reason -> {});
  }

  /** The same on a topic of another name. */
  public Subscription<CheckpointRecord> checkpoints(String topic, CheckpointQuery query, Consumer<String> onRejected) {
    Objects.requireNonNull(query, "query");
    // Parts of wanted checkpoints are kept until their manifest; the others, and any the
    // subscription started after, are read back by the offsets the manifest names.
    CheckpointAssembler assembler = new CheckpointAssembler(
        p -> query.matches(p.getModel(), p.getRun(), p.getIteration()), 1L << 30);
    RecordsByOffset parts = new RecordsByOffset(this::consumer, topic);
    return new Subscription<>(consumer(), topic, query.follow(), r -> {
      Checkpoint record = assembler.offer(r.partition(), r.offset(), r.value());
      if (record == null || !query.matches(record.getModel(), record.getRun(), record.getIteration())) {
        return null;
      }
      Checkpoint whole;
      try {
        whole = assembler.complete(record, parts);
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      long size = record.hasManifest() ? record.getManifest().getSize() : r.value().length;
      return new CheckpointRecord(whole, r.partition(), r.offset(), (int) Math.min(Integer.MAX_VALUE, size));
    }, onRejected);
  }

  /**
   * The training events of one job (run) from {@code crema.train-events}, from its first on, and
   * new ones as they come; close it when done (an event whose state is FINISHED, FAILED or STOPPED
   * is the job's last).
   */
  public Subscription<TrainEvent> jobEvents(String jobId) {
    return new Subscription<>(consumer(), TRAIN_EVENTS, true, r -> {
      if (!jobId.equals(r.key())) {
        return null;
      }
      try {
        TrainEvent e = TrainEvent.parseFrom(r.value());
        return e.getRun().equals(jobId) ? e : null;
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("not a TrainEvent: " + e.getMessage(), e);
      }
    }, reason -> {});
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      Map<String, Object> p = new HashMap<>(kafka);
      p.put("bootstrap.servers", requireKafka());
      p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }
    return producer;
  }

  /**
   * Predictions over Kafka: one {@code PredictRequest} on {@code crema.predict-requests} (rows of
   * raw features in the model's feature order, as ingested), and its {@code PredictResult} from
   * {@code crema.predictions}, waited for up to the client's timeout. A result with an error is
   * thrown as a {@link CremaException}.
   */
  public PredictResult predictOverKafka(String model, List<Row> rows) {
    String id = UUID.randomUUID().toString();
    try (KafkaConsumer<String, byte[]> c = consumer()) {
      List<PartitionInfo> info = c.partitionsFor(PREDICTIONS, Duration.ofSeconds(10));
      if (info == null || info.isEmpty()) {
        throw new CremaException(0, PREDICTIONS + " does not exist: is the inference service running?");
      }
      List<TopicPartition> tps = info.stream().map(p -> new TopicPartition(PREDICTIONS, p.partition())).toList();
      c.assign(tps);
      c.seekToEnd(tps);
      tps.forEach(c::position);
      PredictRequest req = PredictRequest.newBuilder().setRequestId(id).setModel(model).addAllRows(rows).build();
      producer().send(new ProducerRecord<>(PREDICT_REQUESTS, id, req.toByteArray()));
      producer().flush();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (!id.equals(r.key())) {
            continue;
          }
          PredictResult result;
          try {
            result = PredictResult.parseFrom(r.value());
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new CremaException(0, "not a PredictResult: " + e.getMessage());
          }
          if (result.getRequestId().equals(id)) {
            if (!result.getError().isEmpty()) {
              throw new CremaException(0, result.getError());
            }
            return result;
          }
        }
      }
      throw new CremaException(0, "no answer to prediction request " + id + " within " + timeout.toSeconds() + " s");
    }
  }

  @Override
  public synchronized void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(10));
      producer = null;
    }
  }

  /** Builds a {@link CremaClient}. */
  public static final class Builder {
    private String bootstrapServers;
    private final Map<String, Object> kafka = new HashMap<>();
    private URI ingest;
    private URI trainer;
    private URI inference;
    private String apiToken;
    private Duration timeout = Duration.ofSeconds(120);
    private String clientId = "crema-client";

    private Builder() {}

    /** The Kafka cluster: {@code host:port,...}. */
    public Builder bootstrapServers(String servers) {
      this.bootstrapServers = servers;
      return this;
    }

    /**
     * A Kafka client setting passed to every consumer and producer unchanged, as the services'
     * {@code kafka.client.*}: {@code security.protocol}, {@code ssl.*}, {@code sasl.*}.
     */
    public Builder kafkaProperty(String key, Object value) {
      kafka.put(key, value);
      return this;
    }

    /** Several of {@link #kafkaProperty}; a {@code kafka.client.} prefix on a key is dropped. */
    public Builder kafkaProperties(Map<String, ?> settings) {
      settings.forEach((k, v) -> kafka.put(k.startsWith("kafka.client.") ? k.substring(13) : k, v));
      return this;
    }

    public Builder ingest(URI url) {
      this.ingest = url;
      return this;
    }

    public Builder trainer(URI url) {
      this.trainer = url;
      return this;
    }

    public Builder inference(URI url) {
      this.inference = url;
      return this;
    }

    /** The services' API token ({@code crema.api.token}), sent as {@code Authorization: Bearer}. */
    public Builder apiToken(String token) {
      this.apiToken = token;
      return this;
    }

    /** How long an HTTP call or a prediction over Kafka may take. Default 120 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout);
      return this;
    }

    public Builder clientId(String clientId) {
      this.clientId = Objects.requireNonNull(clientId);
      return this;
    }

    public CremaClient build() {
      return new CremaClient(this);
    }
  }
}
