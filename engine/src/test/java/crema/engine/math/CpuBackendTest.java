package crema.engine.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CPU math runs on the OpenBLAS inside the bytedeco jar, not on whatever BLAS the machine has:
 * what "a fresh machine with only a JDK and Maven" gets. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE may
 * be set in the environment; the assertions hold either way.
 */
class CpuBackendTest {
  private static boolean linuxX64() {
    return System.getProperty("os.name").startsWith("Linux")
        && List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
  }

  @Test
  void theBundledOpenBlasRunsAndNoSystemBlasIsMapped() throws Exception {
    assumeTrue(linuxX64(), "the bundled natives are linux-x86_64's");
    String description = CpuBackend.INSTANCE.describe();
    assertTrue(description.startsWith("OpenBLAS, kernel "), description);
    assertTrue(description.contains("bundled org.bytedeco:openblas"), description);
    String path = System.getProperty(NativeBlas.PATH_PROPERTY);
    assertNotNull(path, "netlib is pointed at a file");
    assertTrue(path.contains("org/bytedeco/openblas/linux-x86_64/"), path);
    assertTrue(description.contains(path), description);
    // What the process has mapped: the bundled library, and no BLAS from the system's directories.
    List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
    assertTrue(maps.stream().anyMatch(l -> l.endsWith(path)), "the bundled OpenBLAS is mapped");
    for (String line : maps) {
      int slash = line.indexOf('/');
      if (slash < 0) {
        continue;
      }
      String file = line.substring(slash);
      String name = file.substring(file.lastIndexOf('/') + 1);
      if (name.contains("blas") && !name.startsWith("libnetlibblasjni")) {
        assertTrue(file.contains("org/bytedeco/openblas/"), "a BLAS outside the bundled one is mapped: " + file);
      }
    }
  }

  @Test
  void theLogLineNamesTheKernelAndTheThreads() {
    assumeTrue(linuxX64(), "the bundled natives are linux-x86_64's");
    String description = CpuBackend.INSTANCE.describe();
    String coreType = System.getenv("OPENBLAS_CORETYPE");
    if (coreType != null && !coreType.isEmpty()) {
      assertTrue(description.contains("(picked by OPENBLAS_CORETYPE=" + coreType + ")"), description);
    } else {
      assertTrue(description.contains("(picked for this CPU; OPENBLAS_CORETYPE overrides)"), description);
    }
    if (System.getenv("OPENBLAS_NUM_THREADS") == null && System.getenv("GOTO_NUM_THREADS") == null
        && System.getenv("OMP_NUM_THREADS") == null) {
      assertTrue(description.contains(", 1 thread (Crema's default"), description);
    }
    assertTrue(description.contains("config: OpenBLAS "), description);
  }

  @Test
  void gemmAndGemvAgreeWithPlainLoopsInEveryTransposition() {
    Backend cpu = CpuBackend.INSTANCE;
    Random r = new Random(3);
    int m = 7;
    int n = 5;
    int k = 11;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        float[] a = random(r, m * k + 2);
        float[] b = random(r, k * n + 3);
        float[] c = random(r, m * n + 1);
        float[] expected = c.clone();
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
              float av = ta ? a[2 + p * m + i] : a[2 + i * k + p];
              float bv = tb ? b[3 + j * k + p] : b[3 + p * n + j];
              s += (double) av * bv;
            }
            expected[1 + i * n + j] = (float) (0.5 * s + 0.25 * c[1 + i * n + j]);
          }
        }
        cpu.gemm(ta, tb, m, n, k, 0.5f, a, 2, b, 3, 0.25f, c, 1);
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], c[i], 1e-5f * Math.max(1f, Math.abs(expected[i])),
              "gemm transA=" + ta + " transB=" + tb + " at " + i);
        }
      }
      float[] a = random(r, m * n);
      float[] x = random(r, ta ? m : n);
      float[] y = random(r, ta ? n : m);
      float[] expected = y.clone();
      for (int i = 0; i < expected.length; i++) {
        double s = 0;
        for (int j = 0; j < x.length; j++) {
          s += (double) (ta ? a[j * n + i] : a[i * n + j]) * x[j];
        }
        expected[i] = (float) (2 * s - y[i]);
      }
      cpu.gemv(ta, m, n, 2f, a, 0, x, 0, -1f, y, 0);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], y[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), "gemv transA=" + ta);
      }
    }
    assertFalse(cpu.describe().isEmpty());
  }

  private static float[] random(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return v;
  }
}
