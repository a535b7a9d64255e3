package crema.engine.math;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Finds the BLAS behind {@link CpuBackend}. By default that is the OpenBLAS inside the
 * {@code org.bytedeco:openblas} jar: JavaCPP's Loader extracts it (once, into its cache,
 * ~/.javacpp/cache) and loads it, and netlib's JNI BLAS is pointed at that file through netlib's
 * own {@code dev.ludovic.netlib.blas.nativeLibPath} property. GEMM thus keeps netlib's JNI path,
 * which pins the Java arrays (GetPrimitiveArrayCritical) instead of copying them, and a fresh
 * machine needs no system BLAS.
 *
 * <p>A user who sets {@code -Ddev.ludovic.netlib.blas.nativeLibPath} (a file) or
 * {@code -Ddev.ludovic.netlib.blas.nativeLib} (a name) chooses the library instead, e.g. a system
 * OpenBLAS or MKL. When the bundled library cannot load (another platform), netlib's default
 * system {@code libblas.so.3} is tried, then netlib's Java BLAS. {@link #describe} says which
 * runs, and for OpenBLAS which kernel and how many threads.
 */
final class NativeBlas {
  static final String PATH_PROPERTY = "dev.ludovic.netlib.blas.nativeLibPath";
  static final String NAME_PROPERTY = "dev.ludovic.netlib.blas.nativeLib";

  /**
   * OpenBLAS's own C entry points beside BLAS, called through jnr-ffi (already on the class path
   * for lmdbjava): netlib binds only the Fortran BLAS symbols, and the bytedeco presets map these
   * only in their 24 MB LAPACK wrapper. Public so that jnr-ffi's generated class may implement it.
   */
  public interface OpenBlasInfo {
    String openblas_get_config();

    String openblas_get_corename();

    void openblas_set_num_threads(int threads);

    int openblas_get_num_threads();
  }

  /**
   * netlib's instance builder logs a warning for every implementation it skips (the Vector API
   * one needs an incubator module) before Crema can say which BLAS it chose: kept quiet, and held
   * here because java.util.logging keeps loggers only weakly.
   */
  private static final Logger NETLIB_BUILDER_LOG =
      Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");

  final BLAS blas;
  private final String description;

  private NativeBlas(BLAS blas, String description) {
    this.blas = blas;
    this.description = description;
  }

  /** What runs the math: the library, its file, the OpenBLAS kernel and thread count. */
  String describe() {
    return description;
  }

  static NativeBlas load() {
    String userPath = System.getProperty(PATH_PROPERTY);
    String userName = System.getProperty(NAME_PROPERTY);
    String origin;
    String bundledFailure = null;
    if (userPath != null || userName != null) {
      origin = userPath != null ? "-D" + PATH_PROPERTY + "=" + userPath : "-D" + NAME_PROPERTY + "=" + userName;
    } else {
      try {
        String path = loadBundled();
        System.setProperty(PATH_PROPERTY, path);
        origin = "bundled org.bytedeco:openblas " + bundledVersion();
      } catch (Throwable e) {
        // Another platform (no natives in the jar) or an unwritable cache: netlib's default.
        bundledFailure = e.toString();
        origin = "system libblas.so.3";
      }
    }
    NETLIB_BUILDER_LOG.setLevel(java.util.logging.Level.SEVERE);
    BLAS blas;
    try {
      blas = NativeBLAS.getInstance();
    } catch (Throwable e) {
      String why = bundledFailure != null
          ? "the bundled OpenBLAS did not load (" + bundledFailure + ") and neither did " + origin
          : origin + " did not load";
      return new NativeBlas(JavaBLAS.getInstance(), "Java BLAS (" + JavaBLAS.getInstance().getClass().getName()
          + ", slow): " + why);
    }
    String file = mappedBlasFile();
    String prefix = bundledFailure != null ? "the bundled OpenBLAS did not load (" + bundledFailure + "); " : "";
    return new NativeBlas(blas, prefix + openBlasDetails(file, origin));
  }

  /** Extracts and loads bytedeco's OpenBLAS with JavaCPP; the path of the loaded library. */
  private static String loadBundled() {
    org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    for (Map.Entry<String, String> e : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
      if (e.getKey().startsWith("openblas") && e.getValue() != null) {
        return e.getValue();
      }
    }
    throw new IllegalStateException("JavaCPP loaded no openblas library");
  }

  /** The artifact's version from its Maven metadata (kept in the shaded jar); empty if absent. */
  private static String bundledVersion() {
    try (java.io.InputStream in = NativeBlas.class.getClassLoader()
        .getResourceAsStream("META-INF/maven/org.bytedeco/openblas/pom.properties")) {
      if (in == null) {
        return "";
      }
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      return p.getProperty("version", "");
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * The file the process mapped for BLAS (netlib dlopens by name or path; this is what the
   * dynamic linker actually found), from /proc/self/maps; the property's value elsewhere.
   */
  static String mappedBlasFile() {
    String wanted = System.getProperty(PATH_PROPERTY);
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int slash = line.indexOf('/');
        if (slash < 0) {
          continue;
        }
        String file = line.substring(slash);
        String name = file.substring(file.lastIndexOf('/') + 1);
        if (wanted != null ? file.equals(wanted) || sameFile(file, wanted)
            : name.startsWith("libblas") || name.startsWith("libopenblas") || name.startsWith("libmkl_rt")) {
          return file;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: fall through to what was asked for.
    }
    return wanted != null ? wanted : "libblas.so.3";
  }

  private static boolean sameFile(String a, String b) {
    try {
      return Files.isSameFile(Path.of(a), Path.of(b));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * OpenBLAS's configuration, kernel and threads when {@code file} is OpenBLAS; sets one thread
   * unless the environment asks for more. Crema's nets are small: a second OpenBLAS thread costs
   * more in hand-offs than it gains on their GEMMs, and the benchmarks' figures are one thread.
   */
  private static String openBlasDetails(String file, String origin) {
    OpenBlasInfo info;
    try {
      info = jnr.ffi.LibraryLoader.create(OpenBlasInfo.class).failImmediately().load(file);
      info.openblas_get_corename();
    } catch (Throwable e) {
      return "native BLAS through netlib's JNI (" + origin + ", " + file + "; not OpenBLAS, so no kernel"
          + " to report)";
    }
    String threadsWhy;
    String env = firstSet("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS");
    if (env == null) {
      info.openblas_set_num_threads(1);
      threadsWhy = "Crema's default; OPENBLAS_NUM_THREADS sets it";
    } else {
      threadsWhy = env;
    }
    int threads = info.openblas_get_num_threads();
    String coreType = System.getenv("OPENBLAS_CORETYPE");
    String kernel = info.openblas_get_corename()
        + (coreType != null && !coreType.isEmpty() ? " (picked by OPENBLAS_CORETYPE=" + coreType + ")"
            : " (picked for this CPU; OPENBLAS_CORETYPE overrides)");
    return "OpenBLAS, kernel " + kernel + ", " + threads + (threads == 1 ? " thread" : " threads") + " ("
        + threadsWhy + "); " + origin + ", " + file + "; through netlib's JNI; config: "
        + info.openblas_get_config().trim();
  }

  private static String firstSet(String... names) {
    for (String n : names) {
      String v = System.getenv(n);
      if (v != null && !v.isEmpty()) {
        return n + "=" + v;
      }
    }
    return null;
  }
}
