package crema.inference;

import com.google.protobuf.InvalidProtocolBufferException;
import crema.bus.ConsumerLoop;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicSetup;
import crema.bus.Topics;
import crema.engine.contract.ContractRows;
import crema.engine.csv.RowRejectedException;
import crema.proto.PredictRequest;
import crema.proto.PredictResult;
import crema.proto.Prediction;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves Kafka clients: each {@code PredictRequest} on {@code crema.predict-requests} is answered
 * by a {@code PredictResult} on {@code crema.predictions} with the same key and request id (an
 * error in the result when the model is unknown or a row does not fit it).
 *
 * <p>Replicas share the requests through the consumer group {@code crema-inference}: each takes
 * some of the topic's partitions. A replica joins the group only once its models are
 * {@linkplain Models#caughtUp() caught up}, so it never answers "no model is served" for a model on
 * the checkpoints topic. Answers and the consumed offsets are committed in one Kafka transaction:
 * a replica killed mid-batch leaves an aborted transaction, and whichever replica takes the
 * partition next answers from the last committed offset, so every request is answered exactly once
 * for a reader with {@code isolation.level=read_committed} (Crema's readers are).
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Context
public class PredictRequests {
  private static final Logger LOG = LoggerFactory.getLogger(PredictRequests.class);
  /** The consumer group of every inference replica. */
  static final String GROUP = "crema-inference";
  /**
   * How long a replica that stops answering keeps its partitions (a static member: until a restart
   * under the same replica id takes them back), and its open transaction holds back readers of
   * crema.predictions.
   */
  static final int FAILOVER_MS = 10_000;

  private final KafkaClients clients;
  private final Models models;
  private final String replicaId;
  private final boolean named;
  private ConsumerLoop loop;
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  public PredictRequests(KafkaClients clients, Models models, InferenceConfig config) {
    this.clients = clients;
    this.models = models;
    this.named = !config.getReplicaId().isBlank();
    this.replicaId = named ? config.getReplicaId() : UUID.randomUUID().toString();
  }

  @PostConstruct
  void start() {
    topics.ensureAtStart(TopicKind.PREDICT_REQUESTS.spec(), TopicKind.PREDICTIONS.spec());
    Map<String, Object> group = new HashMap<>(Map.of("group.id", GROUP, "enable.auto.commit", false,
        "session.timeout.ms", FAILOVER_MS));
    if (named) {
      // Static membership: a restart under the same name takes its partitions back without a rebalance.
      group.put("group.instance.id", GROUP + "-" + replicaId);
    }
    loop = ConsumerLoop.start("predict-requests", () -> clients.consumer("crema-inference-requests-" + replicaId,
        group), this::serve);
  }

  private void serve(KafkaConsumer<String, byte[]> c, BooleanSupplier running) throws InterruptedException {
    // No requests before the models are back: a request for a model still loading would be
    // answered "no model is served".
    if (!models.awaitCaughtUp(running)) {
      return;
    }
    Map<String, Object> tx = clients.producerConfig("crema-inference-answers-" + replicaId);
    // The same transactional id after a restart aborts what the killed process left open at once.
    tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "crema-inference-" + replicaId);
    tx.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, FAILOVER_MS);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(tx, new StringSerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      c.subscribe(List.of(Topics.PREDICT_REQUESTS));
      LOG.info("replica {} taking requests on {} (group {})", replicaId, Topics.PREDICT_REQUESTS, GROUP);
      while (running.getAsBoolean()) {
        var records = c.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          continue;
        }
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        producer.beginTransaction();
        try {
          for (var r : records) {
            PredictResult result = answer(r.value());
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, r.key(), result.toByteArray()));
            next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          producer.sendOffsetsToTransaction(next, c.groupMetadata());
          producer.commitTransaction();
        } catch (KafkaException e) {
          // Fenced (the partitions moved to another replica) or a broker failure: what this batch
          // sent is aborted, and the loop starts over from the committed offsets with a new
          // consumer and producer.
          try {
            producer.abortTransaction();
          } catch (KafkaException ignored) {
            // Fenced producers cannot abort; the broker aborts on the next initTransactions or timeout.
          }
          throw e;
        }
      }
    }
  }

  PredictResult answer(byte[] value) {
    PredictRequest req;
    try {
      req = PredictRequest.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      return PredictResult.newBuilder().setError("not a PredictRequest: " + e.getMessage()).build();
    }
    PredictResult.Builder out = PredictResult.newBuilder().setRequestId(req.getRequestId()).setModel(req.getModel());
    var m = models.get(req.getModel());
    if (m.isEmpty()) {
      return out.setError("no model '" + req.getModel() + "' is served").build();
    }
    // Rows are raw features in the model's feature order, as ingested: the contract prepares them.
    float[][] rows = new float[req.getRowsCount()][];
    try {
      for (int i = 0; i < rows.length; i++) {
        rows[i] = ContractRows.instance(m.get().contract, m.get().classes(), req.getRows(i).getValuesList(), i,
            ContractRows.Options.NONE).values();
      }
    } catch (RowRejectedException e) {
      return out.setError(e.getMessage()).build();
    }
    try {
      float[][] probs = m.get().predict(rows).get();
      out.setIteration(m.get().checkpoint.getIteration());
      for (int i = 0; i < probs.length; i++) {
        float[] p = probs[i];
        Prediction.Builder pb = Prediction.newBuilder().setId(req.getRows(i).getId());
        int best = 0;
        for (int c = 0; c < p.length; c++) {
          pb.putProbabilities(m.get().labels.get(c), p[c]).addProbability(p[c]);
          best = p[c] > p[best] ? c : best;
        }
        out.addPredictions(pb.setTopLabel(m.get().labels.get(best)));
      }
      return out.build();
    } catch (Exception e) {
      return out.setError("prediction failed: " + e.getMessage()).build();
    }
  }

  @PreDestroy
  void stop() {
    loop.close();
  }
}
