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
 * Crema's CUDA kernels as the jar carries them: PTX built from {@code src/main/cuda} by nvcc
 * (PTX ISA 9.0, target sm_75; the driver JIT-compiles it for newer GPUs). Loading PTX needs a
 * driver that knows ISA 9.0: CUDA 13.0's, driver 580 or newer.
 */
public final class Kernels {
  /** The resource holding every kernel. */
  public static final String PTX = "/crema/gpu/crema_kernels.ptx";
  /** The oldest driver whose JIT reads this PTX (CUDA 13.0). */
  public static final String MINIMUM_DRIVER = "580";

  private Kernels() {}

  /** The PTX text, NUL-terminated as cuModuleLoadData wants it. */
  public static byte[] ptx() {
    try (InputStream in = Kernels.class.getResourceAsStream(PTX)) {
      if (in == null) {
        throw new IllegalStateException(PTX + " is missing from the jar: build the gpu module (build-ptx.sh)");
      }
      byte[] text = in.readAllBytes();
      return Arrays.copyOf(text, text.length + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernels' entry names in the PTX. */
  public static List<String> entries() {
    String text = new String(ptx(), StandardCharsets.US_ASCII);
    Matcher m = Pattern.compile("\\.visible \\.entry (\\w+)\\(").matcher(text);
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
