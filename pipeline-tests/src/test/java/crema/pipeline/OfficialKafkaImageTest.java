package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micronaut.http.MediaType;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The ingest service against the official Apache Kafka image (KRaft), as docker-compose.yml runs
 * it. Needs a Docker engine: where there is none, JUnit reports it skipped ("Docker is not
 * available"); the same paths are covered on the in-process broker by the other tests.
 */
@Testcontainers(disabledWithoutDocker = true)
class OfficialKafkaImageTest {
  @Container
  static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

  @TempDir
  Path tmp;

  @Test
  void ingestWritesToTheOfficialImage() throws Exception {
    try (ServiceProcess ingest = new ServiceProcess("ingest", KAFKA.getBootstrapServers(), tmp).start()) {
      Map<String, Object> r = PipelineSupport.post(ingest.url(), "/v1/datasets/digits/rows?label=digit",
          PipelineSupport.digitsCsv(), MediaType.of("text/csv"));
      assertEquals(1797, ((Number) r.get("accepted")).intValue());
    }
  }
}
