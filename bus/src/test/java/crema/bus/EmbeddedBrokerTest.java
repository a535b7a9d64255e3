package crema.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class EmbeddedBrokerTest {
  @Test
  void recordsSurviveABrokerRestart() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      Map<String, Object> p = Map.of("bootstrap.servers", broker.bootstrapServers(), "acks", "all");
      try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("t", "k", "before")).get();
      }
      broker.restart();
      try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("t", "k", "after")).get();
      }
      Map<String, Object> c = Map.of("bootstrap.servers", broker.bootstrapServers(), "group.id", "g",
          "auto.offset.reset", "earliest");
      try (var consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("t"));
        List<String> seen = new java.util.ArrayList<>();
        long end = System.currentTimeMillis() + 30000;
        while (seen.size() < 2 && System.currentTimeMillis() < end) {
          ConsumerRecords<String, String> r = consumer.poll(Duration.ofMillis(200));
          r.forEach(x -> seen.add(x.value()));
        }
        assertEquals(List.of("before", "after"), seen);
      }
    }
  }
}
