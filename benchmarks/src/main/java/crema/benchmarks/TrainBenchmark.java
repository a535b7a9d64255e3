package crema.benchmarks;

import crema.engine.Solver;
import crema.engine.check.ReferenceNets;
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
 * One SGD iteration (forward, backward, update) of the seed net at batch 64 and the wide net at
 * batch 256, data already in memory. Samples/s = iterations/s × batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class TrainBenchmark {
  @Param({"seed", "wide"})
  public String net;

  private Solver solver;

  @Setup(Level.Trial)
  public void setUp() {
    solver = net.equals("seed") ? ReferenceNets.trainer(ReferenceNets.seedLayers(), 64) : ReferenceNets.trainer(ReferenceNets.wideLayers(), 256);
  }

  @Benchmark
  public int iteration() {
    solver.step(1);
    return solver.iter();
  }

  @TearDown
  public void tearDown() {
    solver.close();
  }
}
