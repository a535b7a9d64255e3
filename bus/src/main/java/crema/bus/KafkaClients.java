package crema.bus;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka clients as the pipeline uses them: string keys, protobuf bytes as values; producers
 * idempotent with acks=all; consumers that never auto-commit (progress lives in checkpoints) and
 * read committed records only (the inference service answers requests in transactions). Record
 * and fetch sizes are Kafka's defaults: a checkpoint larger than a record goes in parts.
 * Consumers never create topics ({@link TopicSetup} does, with Crema's settings). Every extra
 * setting given (TLS, SASL, timeouts) is passed to every client unchanged.
 */
public final class KafkaClients {
  private final Map<String, Object> common;

  /** {@code extra}: client settings such as security.protocol, sasl.*, ssl.* passed through. */
  public KafkaClients(String bootstrapServers, Map<String, ?> extra) {
    common = new HashMap<>(extra);
    common.put("bootstrap.servers", bootstrapServers);
  }

  public String bootstrapServers() {
    return (String) common.get("bootstrap.servers");
  }

  public KafkaProducer<String, byte[]> producer(String clientId) {
    return new KafkaProducer<>(producerConfig(clientId), new StringSerializer(), new ByteArraySerializer());
  }

  /** The settings {@link #producer} uses: the common ones (TLS, SASL, ...) and the pipeline's. */
  public Map<String, Object> producerConfig(String clientId) {
    Map<String, Object> p = new HashMap<>(common);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
    // One request in flight per broker: with five, a fresh partition whose first batch met
    // NOT_LEADER_OR_FOLLOWER while later ones went on had every retry refused as
    // OUT_OF_ORDER_SEQUENCE_NUMBER until the delivery timeout (ingest hung; Kafka 4.3 clients and
    // broker, 4-partition datum topics).
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    // crema.datasets takes schemas up to 16 MiB; every other topic still holds its records to
    // Kafka's default through its own max.message.bytes, which the broker enforces.
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicKind.DATASETS.maxMessageBytes());
    return p;
  }

  /**
   * The settings of the producer that sends uploads' records (the ingest service's), and of
   * anything measured against it: {@link #producerConfig}'s, with {@code overrides} on top (the
   * ingest service's {@code crema.ingest.producer.*}), so that an upload's batching can be tuned
   * without touching the other services' producers. Measured on two shared cores (README,
   * "Ingest"), longer linger and bigger batches (50 ms, 512 KiB) and lz4 made no difference to an
   * upload's time beyond the noise, so the defaults are the pipeline's.
   */
  public Map<String, Object> uploadProducerConfig(String clientId, Map<String, ?> overrides) {
    Map<String, Object> p = producerConfig(clientId);
    p.putAll(overrides);
    return p;
  }

  /** An admin client with the same settings (health checks, topic listings). */
  public Admin admin(String clientId) {
    return Admin.create(adminConfig(clientId));
  }

  /** The settings {@link #admin} uses. */
  public Map<String, Object> adminConfig(String clientId) {
    Map<String, Object> p = new HashMap<>(common);
    p.put("client.id", clientId);
    p.put("request.timeout.ms", 5000);
    p.put("default.api.timeout.ms", 5000);
    return p;
  }

  /** A consumer without a group: callers assign partitions and seek, as the trainer does. */
  public KafkaConsumer<String, byte[]> consumer(String clientId) {
    return consumer(clientId, Map.of());
  }

  /** The same, with settings of the caller's own on top. */
  public KafkaConsumer<String, byte[]> consumer(String clientId, Map<String, Object> overrides) {
    return new KafkaConsumer<>(consumerConfig(clientId, overrides), new StringDeserializer(), new ByteArrayDeserializer());
  }

  /** The settings {@link #consumer(String, Map)} uses: the common ones, the pipeline's, the caller's. */
  public Map<String, Object> consumerConfig(String clientId, Map<String, Object> overrides) {
    Map<String, Object> p = new HashMap<>(common);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Answers of an inference replica killed mid-transaction are aborted and answered again by
    // another: a reader must not count both. On topics without transactions this changes nothing.
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    // Topics are created by TopicSetup with Crema's settings, never by a reader with the broker's defaults.
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    p.putAll(overrides);
    return p;
  }
}
