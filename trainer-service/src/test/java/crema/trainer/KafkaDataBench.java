package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import crema.bus.EmbeddedBroker;
import crema.bus.KafkaClients;
import crema.engine.Solver;
import crema.engine.data.DatumSources;
import crema.engine.data.LmdbCursor;
import crema.engine.io.Prototxt;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Kafka Data layer against the LMDB one (benchmarks/kafka-data.sh runs it; not a test): the
 * records of an LMDB are copied to a one-partition topic on an in-process broker, then the seed
 * net (93-30-9, batch 64, Caffe's SGD as in examples/otto, no tests) trains for the given
 * iterations from each, alternately, {@code rounds} times. Prints iter/s of each run and the ratio.
 * Arguments: the LMDB directory, iterations, rounds.
 */
public final class KafkaDataBench {
  private KafkaDataBench() {}

  public static void main(String[] args) throws Exception {
    String lmdb = args[0];
    int iterations = Integer.parseInt(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    try (EmbeddedBroker broker = EmbeddedBroker.start()) {
      KafkaClients clients = new KafkaClients(broker.bootstrapServers(), Map.of());
      try (Admin admin = clients.admin("bench")) {
        admin.createTopics(List.of(new NewTopic("datums", Optional.of(1), Optional.empty()))).all().get();
      }
      long records;
      try (LmdbCursor c = LmdbCursor.open(lmdb); KafkaProducer<String, byte[]> p = clients.producer("bench")) {
        records = c.size();
        for (long i = 0; i < records; i++) {
          ByteBuffer v = c.peekBytes();
          byte[] b = new byte[v.remaining()];
          v.get(b);
          p.send(new ProducerRecord<>("datums", c.key(), b));
          c.skip();
        }
        p.flush();
      }
      DatumSources.register(DB.KAFKA,
          p -> new KafkaDatumCursor(clients, p.getSource(), 10_000, new SimpleMeterRegistry()));
      System.out.println("kafka-data: " + records + " records of " + lmdb + " on topic 'datums'; seed net b64, "
          + iterations + " iterations per run");
      double[] sum = new double[2];
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
          double perS = train(k == 0 ? "LMDB" : "KAFKA", k == 0 ? lmdb : "datums", iterations);
          sum[k] += perS;
          System.out.printf("kafka-data: %-5s %.2f s, %.0f iter/s%n", k == 0 ? "LMDB" : "KAFKA", iterations / perS, perS);
        }
      }
      System.out.printf("kafka-data: Kafka / LMDB = %.2f (mean iter/s over %d rounds: %.0f / %.0f)%n",
          sum[1] / sum[0], rounds, sum[1] / rounds, sum[0] / rounds);
    }
    System.exit(0);
  }

  private static double train(String backend, String source, int iterations) {
    String net = "name: 'seed'\n"
        + "layer { name: 'data' type: 'Data' top: 'data' top: 'label' data_param { source: '" + source
        + "' batch_size: 64 backend: " + backend + " } }\n"
        + "layer { name: 'ip1' type: 'InnerProduct' bottom: 'data' top: 'ip1' inner_product_param { num_output: 30"
        + " weight_filler { type: 'xavier' } bias_filler { type: 'constant' } } }\n"
        + "layer { name: 'relu1' type: 'ReLU' bottom: 'ip1' top: 'ip1' }\n"
        + "layer { name: 'ip2' type: 'InnerProduct' bottom: 'ip1' top: 'ip2' inner_product_param { num_output: 9"
        + " weight_filler { type: 'xavier' } bias_filler { type: 'constant' } } }\n"
        + "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip2' bottom: 'label' top: 'loss' }\n";
    var solver = Prototxt.parseSolver("base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: 'inv'"
        + " gamma: 0.0001 power: 0.75 max_iter: " + iterations + " display: 0 snapshot: 0"
        + " snapshot_after_train: false random_seed: 1 solver_mode: CPU", "bench solver");
    try (Solver s = Solver.create(solver.toBuilder().setNetParam(Prototxt.parseNet(net, "seed")).build())) {
      long t0 = System.nanoTime();
      s.solve(null);
      return iterations / ((System.nanoTime() - t0) / 1e9);
    }
  }
}
