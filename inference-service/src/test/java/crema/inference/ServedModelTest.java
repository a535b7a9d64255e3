package crema.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import crema.bus.CheckpointDigest;
import crema.engine.Predictor;
import crema.engine.Solver;
import crema.engine.check.ReferenceNets;
import crema.proto.Checkpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A served model answers the same whichever way a request goes (on a lane of the caller's thread,
 * or batched by the model's worker), and closing it while requests arrive leaves none unanswered:
 * each gets its probabilities or a "replaced" failure that sends it to the newer model.
 */
class ServedModelTest {
  private static final String LAYERS = ReferenceNets.wideLayers();

  private static Checkpoint checkpoint(byte[] caffemodel) {
    String deploy = TextFormat.printer().printToString(ReferenceNets.deploy(LAYERS));
    byte[] state = new byte[0];
    return Checkpoint.newBuilder().setModel("m").setRun("r").setIteration(1).setDeployPrototxt(deploy)
        .setCaffemodel(ByteString.copyFrom(caffemodel)).setSolverstate(ByteString.copyFrom(state))
        .setSha256(CheckpointDigest.sha256(caffemodel, state))
        .addAllLabelNames(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8")).build();
  }

  private static float[][] rows(Random r, int n) {
    float[][] x = new float[n][93];
    for (float[] row : x) {
      for (int j = 0; j < 93; j++) {
        row[j] = r.nextFloat() < 0.8f ? 0 : (float) Math.log1p(r.nextInt(20));
      }
    }
    return x;
  }

  @Test
  void lanesAndTheBatchingWorkerGiveThePredictorsAnswers() throws Exception {
    byte[] weights;
    try (Solver s = ReferenceNets.trainer(LAYERS, 1)) {
      weights = s.net().toProto(false).toByteArray();
    }
    Random r = new Random();
    float[][] small = rows(r, ServedModel.LANE_ROWS);
    float[][] large = rows(r, ServedModel.LANE_ROWS + 50);
    try (Predictor reference = new Predictor(ReferenceNets.deploy(LAYERS), NetParameter.parseFrom(weights));
        ServedModel m = ServedModel.load(checkpoint(weights), 256, new InferenceMetrics(new SimpleMeterRegistry()))) {
      for (float[][] x : new float[][][] {{small[0]}, small, large}) {
        float[][] expected = reference.predict(x);
        float[][] got = m.predict(x).get();
        for (int i = 0; i < x.length; i++) {
          assertArrayEquals(expected[i], got[i], 0f, "row " + i + " of " + x.length);
        }
      }
    }
  }

  @Test
  void closingWhileRequestsArriveAnswersEveryOne() throws Exception {
    byte[] weights;
    try (Solver s = ReferenceNets.trainer(LAYERS, 1)) {
      weights = s.net().toProto(false).toByteArray();
    }
    ServedModel m = ServedModel.load(checkpoint(weights), 256, new InferenceMetrics(new SimpleMeterRegistry()));
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger replaced = new AtomicInteger();
    List<Thread> clients = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      int rowsPerRequest = t % 2 == 0 ? 1 : ServedModel.LANE_ROWS + 3;
      Thread c = new Thread(() -> {
        Random r = new Random();
        // Until the model refuses: every request before that must be answered.
        while (true) {
          CompletableFuture<float[][]> f = m.predict(rows(r, rowsPerRequest));
          try {
            assertTrue(f.get().length == rowsPerRequest);
            answered.incrementAndGet();
          } catch (ExecutionException e) {
            assertInstanceOf(ServedModel.ReplacedException.class, e.getCause());
            replaced.incrementAndGet();
            return;
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      clients.add(c);
      c.start();
    }
    while (answered.get() < 200) {
      Thread.onSpinWait();
    }
    m.close();
    for (Thread c : clients) {
      c.join();
    }
    assertTrue(replaced.get() == clients.size(), replaced + " of " + clients.size() + " clients saw the model replaced");
  }
}
