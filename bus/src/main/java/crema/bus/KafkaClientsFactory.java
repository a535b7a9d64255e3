package crema.bus;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.env.Environment;
import io.micronaut.core.naming.conventions.StringConvention;
import jakarta.inject.Singleton;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The Kafka clients of every service, from {@code kafka.bootstrap.servers} and
 * {@code kafka.client.*} (security.protocol, ssl.*, sasl.*, ... passed to every client unchanged),
 * and the service's one producer, named after the application and measured by Micrometer.
 */
@Factory
@Requires(property = "kafka.bootstrap.servers")
public class KafkaClientsFactory {
  @Singleton
  KafkaClients clients(@Value("${kafka.bootstrap.servers}") String servers, Environment env) {
    Map<String, Object> extra = env.getProperties("kafka.client", StringConvention.RAW);
    return new KafkaClients(servers, extra);
  }

  @Singleton
  @Bean(preDestroy = "close")
  KafkaProducer<String, byte[]> producer(KafkaClients clients, MeterRegistry meters,
      @Value("${micronaut.application.name:crema}") String application) {
    KafkaProducer<String, byte[]> producer = clients.producer(application);
    // The Kafka client's own metrics (kafka_producer_*: record rates, request latency, errors).
    new KafkaClientMetrics(producer).bindTo(meters);
    return producer;
  }
}
