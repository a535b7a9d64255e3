package crema.benchmarks;

import crema.engine.Predictor;
import crema.engine.Solver;
import crema.engine.check.ReferenceNets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Prediction with a deploy net: µs per call at batch 1 (as {@code float[][]} in and out, and into
 * arrays the caller keeps, as the inference service's lanes do), and calls/s at batch 1024. Run
 * with {@code -prof gc} to see the bytes allocated per call (gc.alloc.rate.norm).
 */
@State(Scope.Thread)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class InferenceBenchmark {
  @Param({"seed", "wide"})
  public String net;

  private Predictor predictor;
  private float[][] one;
  private float[][] many;
  private float[] oneFlat;
  private float[] oneOut;

  @Setup(Level.Trial)
  public void setUp() {
    String layers = net.equals("seed") ? ReferenceNets.seedLayers() : ReferenceNets.wideLayers();
    try (Solver s = ReferenceNets.trainer(layers, 1)) {
      predictor = new Predictor(ReferenceNets.deploy(layers), s.net().toProto(false));
    }
    Random r = new Random(2);
    one = new float[1][93];
    many = new float[1024][93];
    for (float[][] rows : new float[][][] {one, many}) {
      for (float[] row : rows) {
        for (int j = 0; j < 93; j++) {
          row[j] = r.nextFloat() < 0.8f ? 0 : (float) Math.log1p(r.nextInt(20));
        }
      }
    }
    oneFlat = one[0].clone();
    oneOut = new float[predictor.outputSize()];
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float[][] batch1() {
    return predictor.predict(one);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float[] batch1Reused() {
    predictor.predict(oneFlat, 1, oneOut);
    return oneOut;
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public float[][] batch1024() {
    return predictor.predict(many);
  }

  @TearDown
  public void tearDown() {
    predictor.close();
  }
}
