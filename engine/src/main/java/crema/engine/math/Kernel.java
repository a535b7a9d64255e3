package crema.engine.math;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One device kernel of a layer or a solver, declared in that layer's or solver's own file, as Caffe
 * keeps {@code x_layer.cu} beside {@code x_layer.cpp}. It names
 * <ul>
 *   <li>the CUDA source that holds it, {@code gpu/src/main/cuda/<source>.cu} (compiled to the
 *       resource {@code crema/gpu/<source>.ptx}),
 *   <li>its C signature, exactly as in that file, from which {@link Device#launch} checks every
 *       launch's arguments and the {@code gpu} module's tests check the PTX, and
 *   <li>its body for one thread in Java, statement for statement the CUDA one, which devices
 *       without CUDA (the tests' host device) run.
 * </ul>
 *
 * <pre>{@code
 * static final Kernel FORWARD = Kernel.of("relu_layer",
 *     "crema_relu_forward(int n, float slope, const float* x, float* y)",
 *     (i, a) -> a.buffer(3)[i] = a.buffer(2)[i] > 0 ? a.buffer(2)[i] : a.real(1) * a.buffer(2)[i]);
 * ...
 * device().launch(FORWARD, n, n, slope, x.deviceData(device()), y.mutableDeviceData(device()));
 * }</pre>
 *
 * <p>A launch runs {@code threads} threads, indices 0 to threads − 1; arguments go in the
 * signature's order: an {@code Integer} for {@code int} (or {@code unsigned int}), a {@code Float}
 * for {@code float}, a {@link DeviceBuffer} for a pointer.
 */
public final class Kernel {
  /** What one thread of the kernel does, for index {@code i}: the CUDA body in Java. */
  @FunctionalInterface
  public interface Body {
    void run(int i, Args args);
  }

  /** A launch's arguments as a host body sees them, by their position in the signature. */
  public static final class Args {
    private final Object[] values;

    Args(Object[] values) {
      this.values = values;
    }

    /** The pointer argument at {@code k}: the buffer's memory on the host. */
    public float[] buffer(int k) {
      return (float[]) values[k];
    }

    /** The {@code int} argument at {@code k}. */
    public int integer(int k) {
      return (Integer) values[k];
    }

    /** The {@code float} argument at {@code k}. */
    public float real(int k) {
      return (Float) values[k];
    }
  }

  /** What a parameter of the signature takes. */
  public enum Param {
    INT, FLOAT, POINTER
  }

  private static final Pattern SIGNATURE = Pattern.compile("\\s*(\\w+)\\s*\\((.*)\\)\\s*");
  private static final List<Kernel> DECLARED = new CopyOnWriteArrayList<>();

  private final String source;
  private final String name;
  private final List<Param> params;
  private final Body host;

  private Kernel(String source, String name, List<Param> params, Body host) {
    this.source = source;
    this.name = name;
    this.params = params;
    this.host = host;
  }

  /**
   * Declares a kernel of {@code gpu/src/main/cuda/<source>.cu} with its C {@code signature}
   * ({@code "crema_x(int n, const float* x, float* y)"}) and its one-thread {@code host} body.
   *
   * @throws IllegalArgumentException when the signature does not parse
   */
  public static Kernel of(String source, String signature, Body host) {
    Matcher m = SIGNATURE.matcher(signature);
    if (!m.matches()) {
      throw new IllegalArgumentException("kernel signature '" + signature + "' is not name(params)");
    }
    List<Param> params = new ArrayList<>();
    for (String p : m.group(2).split(",")) {
      params.add(param(p.trim(), signature));
    }
    Kernel k = new Kernel(Objects.requireNonNull(source), m.group(1), List.copyOf(params),
        Objects.requireNonNull(host));
    DECLARED.add(k);
    return k;
  }

  private static Param param(String p, String signature) {
    if (p.contains("*")) {
      return Param.POINTER;
    }
    String type = p.replaceAll("\\s+\\w+$", "").replace("const ", "").trim();
    switch (type) {
      case "int":
      case "unsigned int":
        return Param.INT;
      case "float":
        return Param.FLOAT;
      default:
        throw new IllegalArgumentException("kernel signature '" + signature + "': parameter '" + p
            + "' is none of int, unsigned int, float or a pointer");
    }
  }

  /** The CUDA source's base name: {@code gpu/src/main/cuda/<source>.cu}. */
  public String source() {
    return source;
  }

  /** The kernel's entry name in the PTX. */
  public String name() {
    return name;
  }

  /** The parameters' kinds, in order. */
  public List<Param> params() {
    return params;
  }

  /**
   * Every kernel declared so far in this class loader: those of the layers and solvers whose
   * classes have been initialised.
   */
  public static List<Kernel> declared() {
    return Collections.unmodifiableList(DECLARED);
  }

  /**
   * Checks that {@code args} fit the signature: their number and, position by position, an
   * Integer, a Float or a {@link DeviceBuffer}.
   *
   * @throws IllegalArgumentException naming the kernel and the argument that does not fit
   */
  public void check(Object... args) {
    if (args.length != params.size()) {
      throw new IllegalArgumentException(
          name + " takes " + params.size() + " arguments " + params + ", got " + args.length);
    }
    for (int k = 0; k < args.length; k++) {
      Object a = args[k];
      boolean fits = switch (params.get(k)) {
        case INT -> a instanceof Integer;
        case FLOAT -> a instanceof Float;
        case POINTER -> a instanceof DeviceBuffer;
      };
      if (!fits) {
        throw new IllegalArgumentException(name + " argument " + k + " must be " + params.get(k)
            + ", got " + (a == null ? "null" : a.getClass().getSimpleName()));
      }
    }
  }

  /**
   * Runs the body for threads 0 to {@code threads} − 1 on the host, with each buffer argument
   * already replaced by its host memory ({@code float[]}).
   */
  public void runOnHost(int threads, Object... hostArgs) {
    Args a = new Args(hostArgs);
    for (int i = 0; i < threads; i++) {
      host.run(i, a);
    }
  }

  @Override
  public String toString() {
    return source + ".cu:" + name + params;
  }
}
