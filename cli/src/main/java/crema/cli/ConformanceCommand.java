package crema.cli;

import crema.engine.check.Conformance;
import crema.gpu.CudaDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema conformance -gpu 0}: the backend conformance suite on each selected GPU — every
 * layer against the CPU within 1e-5, Caffe's six solvers against the otto-mini fixture — printed
 * one line per check. Exits 1 when any check fails.
 */
@Command(name = "conformance", description = "Check a GPU against the CPU and Caffe's otto-mini fixture.")
final class ConformanceCommand implements Callable<Integer> {
  @Option(names = {"-gpu", "--gpu"}, required = true, description = "GPU device ids, comma-separated, or 'all'.")
  String gpu;

  @Option(names = {"-fixture", "--fixture"}, defaultValue = "fixtures/otto-mini",
      description = "The otto-mini fixture folder (Caffe 1.0's files); missing: layers only.")
  Path fixture;

  @Override
  public Integer call() throws Exception {
    boolean passed = true;
    try (Gpus gpus = Gpus.open(gpu, null)) {
      for (CudaDevice d : gpus.devices()) {
        Conformance c = new Conformance(d).layers();
        if (Files.isDirectory(fixture.resolve("exact"))) {
          Path scratch = Files.createTempDirectory("crema-conformance");
          try {
            c.solvers(fixture, scratch);
          } finally {
            try (var walk = Files.walk(scratch)) {
              walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
          }
        } else {
          System.out.println("no otto-mini fixture at " + fixture + ": solver checks skipped");
        }
        System.out.println("== " + d.describe());
        c.results().forEach(System.out::println);
        long failed = c.results().stream().filter(r -> !r.passed()).count();
        System.out.println("== " + (c.results().size() - failed) + " of " + c.results().size()
            + " checks passed on " + d.describe());
        passed &= failed == 0 && !c.results().isEmpty();
      }
    }
    return passed ? 0 : 1;
  }
}
