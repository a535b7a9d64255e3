package crema.trainer;

import crema.bus.KafkaClients;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.env.Environment;
import io.micronaut.core.naming.conventions.StringConvention;
import jakarta.inject.Singleton;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;

/** The Kafka clients of this service, from {@code kafka.bootstrap.servers} and {@code kafka.*}. */
// Off when crema up runs this service beside the others in one process and this context is another's.
@io.micronaut.context.annotation.Requires(property = "crema.services.trainer", notEquals = "false")
@Factory
class KafkaFactory {
  @Singleton
  KafkaClients clients(@Value("${kafka.bootstrap.servers}") String servers, Environment env) {
    // kafka.client.* (security.protocol, ssl.*, sasl.*, ...) goes to every client unchanged.
    Map<String, Object> extra = env.getProperties("kafka.client", StringConvention.RAW);
    return new KafkaClients(servers, extra);
  }

  @Singleton
  @io.micronaut.context.annotation.Bean(preDestroy = "close")
  KafkaProducer<String, byte[]> producer(KafkaClients clients, io.micrometer.core.instrument.MeterRegistry meters) {
    KafkaProducer<String, byte[]> producer = clients.producer("crema-trainer");
    // The Kafka client's own metrics (kafka.producer.*: record rates, request latency, errors).
    new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(producer).bindTo(meters);
    return producer;
  }
}
