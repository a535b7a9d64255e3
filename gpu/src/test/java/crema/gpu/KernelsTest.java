package crema.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import crema.engine.math.Kernel;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The PTX the jar carries: one file per CUDA source, holding that source's kernels, valid for an
 * H200 (sm_90) and current with the source; and every kernel a layer or solver declares is there,
 * with the parameters its signature says.
 */
class KernelsTest {
  private static final Path CUDA = Path.of("src/main/cuda");

  /** The CUDA sources by base name, with the kernel entries each defines. */
  static Map<String, List<String>> sources() throws IOException {
    Map<String, List<String>> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(CUDA)) {
      for (Path cu : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
        Matcher m = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(").matcher(Files.readString(cu));
        List<String> entries = new ArrayList<>();
        while (m.find()) {
          entries.add(m.group(1));
        }
        out.put(cu.getFileName().toString().replace(".cu", ""), entries);
      }
    }
    return out;
  }

  @Test
  void everySourceHasItsPtxWithEveryKernel() throws IOException {
    Map<String, List<String>> sources = sources();
    assertTrue(sources.containsKey(Kernels.BLAS));
    for (Map.Entry<String, List<String>> s : sources.entrySet()) {
      assertFalse(s.getValue().isEmpty(), s.getKey() + ".cu defines no kernel");
      assertEquals(s.getValue(), Kernels.entries(s.getKey()), s.getKey() + ".ptx");
      byte[] ptx = Kernels.ptx(s.getKey());
      assertTrue(new String(ptx, StandardCharsets.US_ASCII).contains(".target sm_75"),
          "JIT-able by any GPU from Turing on");
      assertEquals(0, ptx[ptx.length - 1], "NUL-terminated for cuModuleLoadData");
    }
  }

  /** Initialises every registered layer and solver class, so their kernels are declared. */
  static List<Kernel> declaredKernels() throws Exception {
    ClassLoader loader = KernelsTest.class.getClassLoader();
    for (String index : List.of("layer-types", "solver-types")) {
      for (URL url : Collections.list(loader.getResources("META-INF/crema/" + index))) {
        try (InputStream in = url.openStream()) {
          for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith("#")) {
              Class.forName(line.substring(eq + 1).strip(), true, loader);
            }
          }
        }
      }
    }
    return Kernel.declared();
  }

  @Test
  void everyDeclaredKernelIsInItsPtxWithItsSignature() throws Exception {
    List<Kernel> kernels = declaredKernels();
    assertTrue(kernels.size() >= 13, "the layers' and solvers' kernels: " + kernels);
    for (Kernel k : kernels) {
      assertTrue(Kernels.entries(k.source()).contains(k.name()), k + " is not in " + k.source() + ".ptx");
      List<String> expected = k.params().stream().map(p -> switch (p) {
        case INT -> "u32";
        case FLOAT -> "f32";
        case POINTER -> "u64";
      }).toList();
      assertEquals(expected, Kernels.paramTypes(k.source(), k.name()).stream()
          .map(t -> t.equals("s32") || t.equals("b32") ? "u32" : t).toList(), k.toString());
    }
  }

  static boolean on(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** ptxas, CUDA's own assembler, compiles each PTX for the H200's sm_90 without a GPU. */
  @Test
  void ptxAssemblesForTheH200() throws Exception {
    assumeTrue(on("ptxas"), "no ptxas here (CUDA toolkit absent): the PTX is not assembled");
    for (String source : sources().keySet()) {
      byte[] text = Kernels.ptx(source);
      Path ptx = Files.createTempFile(source, ".ptx");
      Path cubin = Files.createTempFile(source, ".cubin");
      Files.write(ptx, Arrays.copyOf(text, text.length - 1));
      Process p = new ProcessBuilder("ptxas", "-arch=sm_90", ptx.toString(), "-o", cubin.toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), source + ": " + out);
      assertTrue(Files.size(cubin) > 0);
    }
  }

  /** The checked-in PTX is what nvcc makes of the checked-in CUDA source. */
  @Test
  void checkedInPtxIsCurrent() throws Exception {
    assumeTrue(on("nvcc"), "no nvcc here: the checked-in PTX is packaged as it is");
    for (String source : sources().keySet()) {
      Path out = Files.createTempFile(source, ".ptx");
      Process p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_75", "-O3", "-o", out.toString(),
          CUDA.resolve(source + ".cu").toString()).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), log);
      List<String> fresh = Files.readAllLines(out).stream().filter(l -> !l.startsWith("//")).toList();
      List<String> packaged = Files.readAllLines(Path.of("src/main/resources" + Kernels.resource(source)));
      assertEquals(fresh, packaged, source + ": run gpu/build-ptx.sh after editing src/main/cuda");
    }
  }
}
