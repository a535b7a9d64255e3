package crema.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * benchmarks/run.sh's table: every ratio is two figures of the run's own results divided, PyTorch's
 * absence skips its ratios, published figures are printed and used by no ratio, and run.sh itself
 * does no arithmetic, so no constant typed into it can become a ratio.
 */
class BenchTableTest {
  @TempDir
  Path results;

  /** Figures drawn at random, so that no expected ratio can be typed in. */
  private final Random random = new Random();

  private double draw() {
    return 1 + random.nextInt(1_000_000) / 10.0;
  }

  private void jmh(double seedCalls, double wideCalls, double infer1Us, double infer1024Calls) throws Exception {
    String head = "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: net\"\n";
    Files.writeString(results.resolve("jmh.csv"), head
        + row("TrainBenchmark.iteration", "thrpt", seedCalls, "ops/s", "seed")
        + row("TrainBenchmark.iteration", "thrpt", wideCalls, "ops/s", "wide")
        + row("InferenceBenchmark.batch1", "avgt", infer1Us, "us/op", "wide")
        + row("InferenceBenchmark.batch1024", "thrpt", infer1024Calls, "ops/s", "wide"));
  }

  private static String row(String bench, String mode, double score, String unit, String net) {
    return String.format(Locale.ROOT, "\"crema.benchmarks.%s\",\"%s\",1,5,%f,%f,\"%s\",%s%n", bench, mode, score,
        score / 100, unit, net);
  }

  @Test
  void everyRatioDividesTwoFiguresOfTheRun() throws Exception {
    double seed = draw();
    double wide = draw();
    double us = draw();
    double many = draw();
    jmh(seed, wide, us, many);
    double torchSeed = draw();
    double torchUs = draw();
    double numpyWide = draw();
    Files.writeString(results.resolve("torch.txt"), String.format(Locale.ROOT,
        "torch_version 1.13.0a0 -%ntorch_blas /x/libopenblas.so.0 -%ntorch_train_seed %f samples/s%n"
            + "torch_infer1_wide %f us/call%n", torchSeed, torchUs));
    Files.writeString(results.resolve("numpy.txt"), String.format(Locale.ROOT,
        "numpy_train_wide %f samples/s%n", numpyWide));
    double e1 = draw();
    double e2 = draw();
    Files.writeString(results.resolve("crema_e2e.txt"), String.format(Locale.ROOT,
        "crema_e2e_otto_mini %f iter/s%ncrema_e2e_otto_mini %f iter/s%n", e1, e2));

    BenchTable t = BenchTable.read(results);
    assertEquals(seed * 64, t.figure("crema_train_seed").orElseThrow().value(), 1e-6 * seed * 64);
    assertEquals(many * 1024, t.figure("crema_infer1024_wide").orElseThrow().value(), 1e-6 * many * 1024);
    assertEquals((e1 + e2) / 2, t.figure("crema_e2e_otto_mini").orElseThrow().value(), 1e-6 * e1);
    assertEquals(seed * 64 / torchSeed, t.speedRatio("train_seed", "torch").orElseThrow(), 1e-6 * seed * 64 / torchSeed);
    // µs/call: lower is faster, so the ratio is the other's time over Crema's.
    assertEquals(torchUs / us, t.speedRatio("infer1_wide", "torch").orElseThrow(), 1e-6 * torchUs / us);
    assertEquals(wide * 256 / numpyWide, t.speedRatio("train_wide", "numpy").orElseThrow(), 1e-6 * wide * 256 / numpyWide);
    // Not measured in this run: no ratio.
    assertTrue(t.speedRatio("train_wide", "torch").isEmpty());
    assertTrue(t.speedRatio("e2e_otto_mini", "torch").isEmpty());

    String published = "Caffe 1.0 somewhere: " + draw() + " samples/s (a source)";
    String table = t.render(List.of(published));
    assertTrue(table.contains(String.format(Locale.ROOT, "%.2fx", seed * 64 / torchSeed)), table);
    assertTrue(table.contains("published, not measured here (no ratio uses them):\n  " + published), table);
    assertFalse(table.contains("PyTorch: not installed"), table);
  }

  @Test
  void visionNetsAreMillisecondsPerPassAndTheirRatiosTheOthersTimeOverCremas() throws Exception {
    double lenet = draw();
    double cifar = draw();
    String head = "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: net\"\n";
    Files.writeString(results.resolve("jmh.csv"), head
        + row("VisionBenchmark.forwardBackward", "avgt", lenet, "ms/op", "lenet")
        + row("VisionBenchmark.forwardBackward", "avgt", cifar, "ms/op", "cifar10_quick"));
    double torchLenet = draw();
    double torchCifar = draw();
    Files.writeString(results.resolve("torch_vision.txt"), String.format(Locale.ROOT,
        "torch_fb_lenet %f ms/iter%ntorch_fb_cifar10_quick %f ms/iter%n", torchLenet, torchCifar));
    double t1 = draw();
    double t2 = draw();
    Files.writeString(results.resolve("crema_time.txt"), String.format(Locale.ROOT,
        "crema_time_lenet %f ms/iter%ncrema_time_lenet %f ms/iter%n", t1, t2));

    BenchTable t = BenchTable.read(results);
    assertEquals(lenet, t.figure("crema_fb_lenet").orElseThrow().value(), 1e-6 * lenet);
    assertEquals(torchLenet / lenet, t.speedRatio("fb_lenet", "torch").orElseThrow(), 1e-6 * torchLenet / lenet);
    assertEquals(torchCifar / cifar, t.speedRatio("fb_cifar10_quick", "torch").orElseThrow(), 1e-6 * torchCifar / cifar);
    // crema time's three runs are one mean figure, with no PyTorch counterpart.
    assertEquals((t1 + t2) / 2, t.figure("crema_time_lenet").orElseThrow().value(), 1e-6 * t1);
    assertTrue(t.speedRatio("time_lenet", "torch").isEmpty());
    String table = t.render(List.of());
    assertTrue(table.contains("LeNet TRAIN b64, forward+backward (2)"), table);
    assertTrue(table.contains(String.format(Locale.ROOT, "%.2fx", torchCifar / cifar)), table);
  }

  @Test
  void withoutPyTorchItsRatiosAreSkippedAndSaidSo() throws Exception {
    jmh(draw(), draw(), draw(), draw());
    BenchTable t = BenchTable.read(results);
    String table = t.render(List.of());
    assertTrue(table.contains("PyTorch: not installed"), table);
    assertTrue(t.speedRatio("train_seed", "torch").isEmpty());
    Matcher ratio = Pattern.compile("\\d+\\.\\d\\dx").matcher(table);
    assertFalse(ratio.find(), table);
  }

  /**
   * run.sh writes figures and leaves every computation to BenchTable: no awk, bc, shell arithmetic
   * or inline Python in it, so a number typed into the script has nothing to be divided by.
   */
  @Test
  void runShComputesNothing() throws Exception {
    Path runSh = Path.of("run.sh").toAbsolutePath();
    List<String> code = Files.readAllLines(runSh).stream().map(l -> l.replaceAll("(^|\\s)#.*$", "").strip())
        .filter(l -> !l.isEmpty()).toList();
    Pattern arithmetic = Pattern.compile("\\bawk\\b|\\bbc\\b|\\$\\(\\(|\\blet\\b|\\bexpr\\b|python3? -c '[^']*[/*+-][^']*'"
        + "|\\bdc\\b|\\bperl\\b");
    for (String line : code) {
      assertFalse(arithmetic.matcher(line).find(), "run.sh computes: " + line);
    }
    String all = String.join("\n", code);
    assertTrue(all.contains("crema.benchmarks.BenchTable"), "run.sh must print BenchTable's table");
    // The old constants never come back (Caffe 490000, PyTorch 464000, 40000, 32000, 7650).
    for (String n : List.of("490000", "464000", "40000", "32000", "7650")) {
      assertFalse(all.contains(n), "run.sh holds " + n);
    }
  }
}
