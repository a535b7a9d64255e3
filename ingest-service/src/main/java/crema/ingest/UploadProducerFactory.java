package crema.ingest;

import crema.bus.KafkaClients;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.env.Environment;
import io.micronaut.core.naming.conventions.StringConvention;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producer that sends uploads' rows: {@link KafkaClients#uploadProducerConfig}'s settings (the
 * pipeline's producer settings), with {@code crema.ingest.producer.*} on top (any Kafka producer
 * setting, e.g. {@code crema.ingest.producer.linger.ms}). Its client id is the application's with
 * "-upload", so that beside the service's shared producer its JMX and Micrometer meters stay its own.
 */
@Factory
@Requires(property = "crema.services.ingest", notEquals = "false")
@Requires(property = "kafka.bootstrap.servers")
public class UploadProducerFactory {
  @Singleton
  @Named("upload")
  @Bean(preDestroy = "close")
  KafkaProducer<String, byte[]> uploadProducer(KafkaClients clients, MeterRegistry meters, Environment env,
      @Value("${micronaut.application.name:crema}") String application) {
    Map<String, Object> overrides = env.getProperties("crema.ingest.producer", StringConvention.RAW);
    KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
        clients.uploadProducerConfig(application + "-upload", overrides),
        new StringSerializer(), new ByteArraySerializer());
    // The Kafka client's own metrics (kafka_producer_*: record rates, request latency, errors).
    new KafkaClientMetrics(producer).bindTo(meters);
    return producer;
  }
}
