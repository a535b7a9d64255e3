package crema.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The PTX the jar carries: every kernel, valid for an H200 (sm_90), and current with its source. */
class KernelsTest {
  static final List<String> KERNELS = List.of("crema_sgemm", "crema_axpy", "crema_set", "crema_scal",
      "crema_relu_forward", "crema_relu_backward", "crema_sigmoid_forward", "crema_sigmoid_backward",
      "crema_tanh_forward", "crema_tanh_backward", "crema_softmax_forward", "crema_softmax_backward",
      "crema_softmax_loss", "crema_dropout_forward", "crema_dropout_backward", "crema_sgd_update",
      "crema_adam_update");

  @Test
  void everyKernelIsInThePtx() {
    assertEquals(KERNELS, Kernels.entries());
    String text = new String(Kernels.ptx(), StandardCharsets.US_ASCII);
    assertTrue(text.contains(".target sm_75"), "JIT-able by any GPU from Turing on");
    assertEquals(0, Kernels.ptx()[Kernels.ptx().length - 1], "NUL-terminated for cuModuleLoadData");
  }

  static boolean on(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** ptxas, CUDA's own assembler, compiles the PTX for the H200's sm_90 without a GPU. */
  @Test
  void ptxAssemblesForTheH200() throws Exception {
    assumeTrue(on("ptxas"), "no ptxas here (CUDA toolkit absent): the PTX is not assembled");
    Path ptx = Files.createTempFile("crema", ".ptx");
    Path cubin = Files.createTempFile("crema", ".cubin");
    Files.write(ptx, java.util.Arrays.copyOf(Kernels.ptx(), Kernels.ptx().length - 1));
    Process p = new ProcessBuilder("ptxas", "-arch=sm_90", ptx.toString(), "-o", cubin.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(Files.size(cubin) > 0);
  }

  /** The checked-in PTX is what nvcc makes of the checked-in CUDA source. */
  @Test
  void checkedInPtxIsCurrent() throws Exception {
    assumeTrue(on("nvcc"), "no nvcc here: the checked-in PTX is packaged as it is");
    Path module = Path.of("").toAbsolutePath();
    Path out = Files.createTempFile("crema", ".ptx");
    Process p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_75", "-O3", "-o", out.toString(),
        module.resolve("src/main/cuda/crema_kernels.cu").toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), log);
    List<String> fresh = Files.readAllLines(out).stream().filter(l -> !l.startsWith("//")).toList();
    List<String> packaged = Files.readAllLines(module.resolve("src/main/resources/crema/gpu/crema_kernels.ptx"));
    assertEquals(fresh, packaged, "run gpu/build-ptx.sh after editing src/main/cuda");
  }
}
