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
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Serves Kafka clients: each {@code PredictRequest} on {@code crema.predict-requests} is answered
 * by a {@code PredictResult} on {@code crema.predictions} with the same key and request id (an
 * error in the result when the model is unknown or a row does not fit it). The consumer group
 * commits after answering, so a restarted service answers what it had not.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.inference", notEquals = "false")
@Context
public class PredictRequests {
  private final KafkaClients clients;
  private final KafkaProducer<String, byte[]> producer;
  private final Models models;
  private ConsumerLoop loop;
  /** Creates and checks this service's topics (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  public PredictRequests(KafkaClients clients, KafkaProducer<String, byte[]> producer, Models models) {
    this.clients = clients;
    this.producer = producer;
    this.models = models;
  }

  @PostConstruct
  void start() {
    topics.ensureAtStart(TopicKind.PREDICT_REQUESTS.spec(), TopicKind.PREDICTIONS.spec());
    loop = ConsumerLoop.start("predict-requests", () -> clients.consumer("crema-inference-requests",
        Map.of("group.id", "crema-inference", "enable.auto.commit", false)), this::serve);
  }

  private void serve(KafkaConsumer<String, byte[]> c, BooleanSupplier running) {
    c.subscribe(List.of(Topics.PREDICT_REQUESTS));
    while (running.getAsBoolean()) {
      var records = c.poll(Duration.ofMillis(200));
      for (var r : records) {
        PredictResult result = answer(r.value());
        producer.send(new ProducerRecord<>(Topics.PREDICTIONS, r.key(), result.toByteArray()));
      }
      if (!records.isEmpty()) {
        producer.flush();
        c.commitSync();
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
