package crema.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import crema.bus.EmbeddedBroker;
import crema.bus.Topics;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import crema.proto.FeatureStats;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Rows parsed in parallel come out as a sequential pass would give them: with chunks of 7 lines on
 * 3 threads, labels that first appear deep into the body (and digits that name their own index)
 * get their indices in line order, every datum is keyed by its row id in line order, every bad
 * row is a dead letter with its own line number and reason, and the schema's statistics are the
 * accepted rows'.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ParallelIngestTest implements TestPropertyProvider {
  @Inject
  @Client("/")
  HttpClient http;

  @Override
  public Map<String, String> getProperties() {
    // One partition: these tests check the records in the order ingest sent them (how Kafka
    // spreads them over partitions is the pipeline tests' subject).
    return Map.of("crema.topics.datums-partitions", "1", "micronaut.server.port", "-1", "kafka.bootstrap.servers",
        EmbeddedBroker.shared().bootstrapServers(),
        "crema.ingest.parse-threads", "3", "crema.ingest.chunk-lines", "7");
  }

  @Test
  void orderKeysLabelsAndDeadLettersAsASequentialPass() throws Exception {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    StringBuilder csv = new StringBuilder("id,a,b,label\n");
    List<String> expectedKeys = new ArrayList<>();
    List<Integer> expectedLabels = new ArrayList<>();
    Map<String, Integer> firstSeen = new LinkedHashMap<>();
    Map<Long, String> expectedDead = new LinkedHashMap<>();
    List<double[]> values = new ArrayList<>();
    // Labels arrive in stages: new ones keep appearing after many chunks have been handed out.
    String[] names = {"c", "a", "e", "b", "d", "f"};
    for (int i = 0; i < 2000; i++) {
      long line = i + 2;
      int known = Math.min(names.length, 1 + i / 300);
      String label = names[r.nextInt(known)];
      if (r.nextInt(15) == 0) {
        csv.append("r").append(i).append(",x,1,").append(label).append('\n');
        expectedDead.put(line, "'x' is not a number");
        continue;
      }
      if (r.nextInt(40) == 0) {
        csv.append("r").append(i).append(",1\n");
        expectedDead.put(line, "expected 4 columns");
        continue;
      }
      int a = r.nextInt(30);
      int b = r.nextInt(5);
      csv.append("r").append(i).append(',').append(a).append(',').append(b).append(',').append(label).append('\n');
      values.add(new double[] {a, b});
      firstSeen.putIfAbsent(label, firstSeen.size());
      expectedKeys.add("r" + i);
      expectedLabels.add(firstSeen.get(label));
    }
    var reply = http.toBlocking().retrieve(HttpRequest.POST(
        "/v1/datasets/inorder/rows?label=label&id=id&split=train&source=inorder.csv", csv.toString())
        .contentType(MediaType.of("text/csv")), Map.class);
    assertEquals(2000, ((Number) reply.get("received")).intValue(), "seed " + seed);
    assertEquals(expectedKeys.size(), ((Number) reply.get("accepted")).intValue(), "seed " + seed);
    assertEquals(new ArrayList<>(firstSeen.keySet()), reply.get("labels"), "seed " + seed);

    var datums = IngestServiceTest.readAll(Topics.datums("inorder", "train"));
    assertEquals(expectedKeys, datums.stream().map(d -> d.key()).toList(), "seed " + seed);
    for (int i = 0; i < datums.size(); i++) {
      assertEquals((int) expectedLabels.get(i), Datum.parseFrom(datums.get(i).value()).getLabel(),
          "seed " + seed + ": row " + expectedKeys.get(i));
    }
    List<DeadLetter> letters = new ArrayList<>();
    for (var rec : IngestServiceTest.readAll(Topics.DEAD_LETTER)) {
      DeadLetter d = DeadLetter.parseFrom(rec.value());
      if (d.getDataset().equals("inorder")) {
        letters.add(d);
      }
    }
    assertEquals(new ArrayList<>(expectedDead.keySet()), letters.stream().map(DeadLetter::getLineNumber).toList(),
        "seed " + seed);
    for (DeadLetter d : letters) {
      assertTrue(d.getReason().contains(expectedDead.get(d.getLineNumber())), "seed " + seed + ": " + d.getReason());
      assertTrue(d.getRawLine().startsWith("r" + (d.getLineNumber() - 2) + ","), d.getRawLine());
    }
    // The schema's statistics, summed per chunk on the parse threads (rows with a label first seen
    // deferred to the request's thread) and merged, are a two-pass computation's over the accepted rows.
    DatasetSchema schema = null;
    for (var rec : IngestServiceTest.readAll(Topics.DATASETS)) {
      if (rec.key().equals("inorder")) {
        schema = DatasetSchema.parseFrom(rec.value());
      }
    }
    assertEquals(values.size(), schema.getAccepted(), "seed " + seed);
    for (int j = 0; j < 2; j++) {
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double[] v : values) {
        sum += v[j];
        min = Math.min(min, v[j]);
        max = Math.max(max, v[j]);
      }
      double mean = sum / values.size();
      double ss = 0;
      for (double[] v : values) {
        ss += (v[j] - mean) * (v[j] - mean);
      }
      FeatureStats f = schema.getFeatures(j);
      assertEquals(mean, f.getMean(), 1e-9, "seed " + seed + ": mean of " + f.getName());
      assertEquals(Math.sqrt(ss / (values.size() - 1)), f.getStd(), 1e-9, "seed " + seed + ": std of " + f.getName());
      assertEquals(min, f.getMin(), "seed " + seed);
      assertEquals(max, f.getMax(), "seed " + seed);
    }
  }
}
