package crema.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU check's bundle as it would travel to a GPU machine: built from the packaged CLI jar with a
 * jlink'd runtime, under 50 MiB, and its CPU part run here from the unpacked bundle with no Java on
 * the PATH — what a machine without a GPU can check of it.
 */
class GpuCheckBundleTest {
  @TempDir
  Path tmp;

  private static String run(Path cwd, List<String> command, java.util.Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", command) + " failed:\n" + out);
    return out;
  }

  @Test
  void bundleTravelsUnder50MiBAndItsCpuPartRunsWithoutAJdk() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    String built = run(repo, List.of("bash", "benchmarks/gpu-check/bundle.sh"), java.util.Map.of());
    Path bundle = repo.resolve("benchmarks/target/gpu-check.tar.gz");
    assertTrue(Files.size(bundle) < 50L * 1024 * 1024, built);
    run(tmp, List.of("tar", "-xzf", bundle.toString()), java.util.Map.of());
    // PATH without any JDK: the bundle's runtime is all there is.
    String out = run(tmp, List.of("bash", "gpu-check/gpu-check.sh", "--cpu-only"),
        java.util.Map.of("PATH", "/usr/bin:/bin", "QUICK", "1", "JAVA_HOME", ""));
    assertTrue(out.contains("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"), out);
    assertTrue(out.contains("java openjdk version"), out);
    Matcher m = Pattern.compile("crema cpu (seed b64|wide b256|wide b1024): (\\d+) samples/s").matcher(out);
    int lines = 0;
    while (m.find()) {
      assertTrue(Long.parseLong(m.group(2)) > 0, m.group());
      lines++;
    }
    assertEquals(3, lines, out);
    // Each bench run trained: the smoothed loss is below a uniform guess over 9 classes, ln 9.
    Matcher loss = Pattern.compile("^bench .* loss=([0-9.]+)$", Pattern.MULTILINE).matcher(out);
    while (loss.find()) {
      assertTrue(Double.parseDouble(loss.group(1)) < Math.log(9), loss.group());
    }
    if (!Files.exists(Path.of("/dev/nvidia0"))) {
      assertTrue(out.contains("-gpu 0 was requested, but no NVIDIA driver"), out);
    }
  }
}
