package crema.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code crema up} (the README's main command, {@code bin/crema up}), from start to a served model (smaller data). */
class CremaUpTest {
  @TempDir
  Path tmp;

  @Test
  void upStreamsOttoInTrainsAndServes() throws Exception {
    Path repo = Path.of("").toAbsolutePath().getParent();
    Path cli = repo.resolve("up/target/crema-up.jar");
    Path log = tmp.resolve("up.log");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-jar", cli.toString(), "--rows", "3000",
        "--max-iter", "1000", "--exit-when-served", "--kafka-port", "0", "--data-dir", tmp.resolve("up").toString())
        .directory(repo.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(p.waitFor(8, TimeUnit.MINUTES), Files.readString(log));
    String out = Files.readString(log);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("\"accepted\":3000,\"rejected\":0"), out);
    assertTrue(out.contains("crema up: serving otto at iteration 1000"), out);
    assertTrue(out.contains("crema up: the dashboard at http://localhost:8080 shows the otto run"), out);
    assertTrue(out.contains("predict:    curl -X POST 'http://localhost:8083/v1/models/otto:predict"), out);
  }
}
