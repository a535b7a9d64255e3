package crema.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Crema's CUDA kernels as the jar carries them: one PTX file per CUDA source of
 * {@code src/main/cuda}, built by nvcc (PTX ISA 9.0, target sm_75; the driver JIT-compiles it for
 * newer GPUs). {@link #BLAS} holds the shared math; each layer or solver with a device path has
 * its own source, named by its {@link crema.engine.math.Kernel}s. Loading PTX needs a driver that
 * knows ISA 9.0: CUDA 13.0's, driver 580 or newer.
 */
public final class Kernels {
  /** The source of the math every layer shares: GEMM fallback, AXPY, set, scale. */
  public static final String BLAS = "crema_blas";
  /** The oldest driver whose JIT reads this PTX (CUDA 13.0). */
  public static final String MINIMUM_DRIVER = "580";

  private Kernels() {}

  /** The class-path resource of a source's PTX. */
  public static String resource(String source) {
    return "/crema/gpu/" + source + ".ptx";
  }

  /** The PTX text of {@code source}, NUL-terminated as cuModuleLoadData wants it. */
  public static byte[] ptx(String source) {
    try (InputStream in = Kernels.class.getResourceAsStream(resource(source))) {
      if (in == null) {
        throw new IllegalStateException(resource(source)
            + " is missing from the jar: add src/main/cuda/" + source + ".cu and run gpu/build-ptx.sh");
      }
      byte[] text = in.readAllBytes();
      return Arrays.copyOf(text, text.length + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernels' entry names in a source's PTX. */
  public static List<String> entries(String source) {
    String text = new String(ptx(source), StandardCharsets.US_ASCII);
    Matcher m = Pattern.compile("\\.visible \\.entry (\\w+)\\(").matcher(text);
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /**
   * The parameter types of {@code entry} in a source's PTX ({@code u32}, {@code f32}, {@code u64},
   * …), in order; empty when the entry is absent.
   */
  public static List<String> paramTypes(String source, String entry) {
    String text = new String(ptx(source), StandardCharsets.US_ASCII);
    Matcher m = Pattern.compile("\\.visible \\.entry " + Pattern.quote(entry) + "\\(([^)]*)\\)").matcher(text);
    List<String> out = new ArrayList<>();
    if (m.find()) {
      Matcher p = Pattern.compile("\\.param \\.(\\w+) ").matcher(m.group(1));
      while (p.find()) {
        out.add(p.group(1));
      }
    }
    return out;
  }
}
