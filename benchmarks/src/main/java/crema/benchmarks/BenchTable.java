package crema.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The table of {@code benchmarks/run.sh}: every figure measured in the run (JMH's csv and the
 * {@code name value unit} files the run wrote), and ratios between them.
 *
 * <p>A ratio is only ever formed between two {@link Figure}s read from the run's own results, so
 * a figure typed in a script cannot enter one: published figures are text lines, printed under
 * their own heading. Figures are named {@code <tool>_<what>} (crema_train_seed, torch_train_seed,
 * numpy_train_seed); a row is one {@code <what>}, and the Crema/other ratio exists only where both
 * were measured in this run, in the same unit.
 */
public final class BenchTable {
  /** One measured figure. "/s" units: higher is faster; "us/call", "ms/iter": lower is faster. */
  public record Figure(String name, double value, String unit) {
    boolean higherIsFaster() {
      return unit.endsWith("/s");
    }
  }

  /** What the rows are, in this order; a measured {@code <what>} not listed here comes after them. */
  private static final Map<String, String> ROWS = new LinkedHashMap<>();

  static {
    ROWS.put("train_seed", "train seed net 93-30-9, b64");
    ROWS.put("train_wide", "train wide net 93-512-512-9, b256");
    ROWS.put("infer1_seed", "infer seed net, batch 1");
    ROWS.put("infer1_wide", "infer wide net, batch 1");
    ROWS.put("infer1reused_seed", "infer seed net, batch 1, arrays reused");
    ROWS.put("infer1reused_wide", "infer wide net, batch 1, arrays reused");
    ROWS.put("infer1024_seed", "infer seed net, batch 1024");
    ROWS.put("infer1024_wide", "infer wide net, batch 1024");
    ROWS.put("e2e_otto_mini", "train otto-mini, 30k iterations, end to end (1)");
    ROWS.put("fb_lenet", "LeNet TRAIN b64, forward+backward (2)");
    ROWS.put("fb_cifar10_quick", "cifar10_quick TRAIN b100, forward+backward (2)");
    ROWS.put("time_lenet", "crema time: LeNet TRAIN b64, LMDB (3)");
    ROWS.put("time_cifar10_quick", "crema time: cifar10_quick TRAIN b100 (3)");
  }

  /** The tools, as columns; Crema is the numerator of every ratio. */
  private static final List<String> OTHERS = List.of("torch", "numpy");

  private final Map<String, Figure> measured;

  public BenchTable(Map<String, Figure> measured) {
    this.measured = Map.copyOf(measured);
  }

  /** Everything measured in the run whose results are in {@code dir}. */
  public static BenchTable read(Path dir) {
    List<Figure> all = new ArrayList<>();
    Path jmh = dir.resolve("jmh.csv");
    if (Files.exists(jmh)) {
      all.addAll(jmh(jmh));
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".txt") && !p.getFileName().toString().equals("table.txt"))
          .sorted().toList()) {
        all.addAll(figures(Files.readAllLines(p)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new BenchTable(merge(all));
  }

  /**
   * One figure per name: a name given several times (one line per display interval of a training
   * log, say) is their mean; in different units it is an error.
   */
  static Map<String, Figure> merge(List<Figure> all) {
    Map<String, List<Figure>> byName = new TreeMap<>();
    all.forEach(f -> byName.computeIfAbsent(f.name(), n -> new ArrayList<>()).add(f));
    Map<String, Figure> m = new TreeMap<>();
    byName.forEach((name, fs) -> {
      if (fs.stream().map(Figure::unit).distinct().count() > 1) {
        throw new IllegalStateException(name + " is given in several units: " + fs);
      }
      m.put(name, new Figure(name, fs.stream().mapToDouble(Figure::value).average().orElseThrow(), fs.get(0).unit()));
    });
    return m;
  }

  /** JMH's csv: the samples/s and µs/call figures of TrainBenchmark and InferenceBenchmark. */
  static List<Figure> jmh(Path csv) {
    List<Figure> out = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(csv);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] f = line.replace("\"", "").split(",");
      if (f.length < 8) {
        continue;
      }
      String bench = f[0].substring(f[0].lastIndexOf('.', f[0].lastIndexOf('.') - 1) + 1);
      String net = f[7].strip();
      double score = Double.parseDouble(f[4]);
      switch (bench) {
        case "TrainBenchmark.iteration" -> out.add(new Figure("crema_train_" + net,
            score * (net.equals("seed") ? ReferenceBatch.SEED : ReferenceBatch.WIDE), "samples/s"));
        case "InferenceBenchmark.batch1" -> out.add(new Figure("crema_infer1_" + net, score, "us/call"));
        case "InferenceBenchmark.batch1Reused" -> out.add(new Figure("crema_infer1reused_" + net, score, "us/call"));
        case "InferenceBenchmark.batch1024" -> out.add(new Figure("crema_infer1024_" + net,
            score * ReferenceBatch.INFER_MANY, "samples/s"));
        case "VisionBenchmark.forwardBackward" -> out.add(new Figure("crema_fb_" + net, score, "ms/iter"));
        default -> { }
      }
    }
    return out;
  }

  /** The batch sizes of the JMH benchmarks: samples/s = calls/s × batch. */
  static final class ReferenceBatch {
    static final int SEED = 64;
    static final int WIDE = 256;
    static final int INFER_MANY = 1024;

    private ReferenceBatch() {}
  }

  /** {@code name value unit} lines; a value that is not a number (a version, a path) is not a figure. */
  static List<Figure> figures(List<String> lines) {
    List<Figure> out = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.strip().split("\\s+");
      if (f.length < 3 || line.startsWith("#")) {
        continue;
      }
      try {
        out.add(new Figure(f[0], Double.parseDouble(f[1]), f[2]));
      } catch (NumberFormatException e) {
        // A label such as torch_blas: printed by run.sh, not a figure.
      }
    }
    return out;
  }

  public Optional<Figure> figure(String name) {
    return Optional.ofNullable(measured.get(name));
  }

  /**
   * How many times faster Crema is than {@code other} on {@code what}, from the two figures of this
   * run; empty when either was not measured.
   */
  public Optional<Double> speedRatio(String what, String other) {
    Figure c = measured.get("crema_" + what);
    Figure o = measured.get(other + "_" + what);
    if (c == null || o == null) {
      return Optional.empty();
    }
    if (!c.unit().equals(o.unit())) {
      throw new IllegalStateException(c + " and " + o + " are in different units");
    }
    return Optional.of(c.higherIsFaster() ? c.value() / o.value() : o.value() / c.value());
  }

  /** The rows: every {@code <what>} that Crema measured. */
  List<String> rows() {
    List<String> rows = new ArrayList<>();
    ROWS.keySet().stream().filter(w -> measured.containsKey("crema_" + w)).forEach(rows::add);
    measured.keySet().stream().filter(n -> n.startsWith("crema_")).map(n -> n.substring(6))
        .filter(w -> !rows.contains(w)).sorted().forEach(rows::add);
    return rows;
  }

  public String render(List<String> published) {
    StringBuilder b = new StringBuilder();
    boolean torch = measured.keySet().stream().anyMatch(n -> n.startsWith("torch_"));
    String head = "%-50s %-10s %12s %12s %12s %14s %14s%n";
    b.append(String.format(Locale.ROOT, head, "benchmark (all measured in this run)", "unit", "Crema",
        "PyTorch", "numpy", "Crema/PyTorch", "Crema/numpy"));
    for (String w : rows()) {
      Figure c = measured.get("crema_" + w);
      b.append(String.format(Locale.ROOT, head, ROWS.getOrDefault(w, w), c.unit(), number(c),
          figure("torch_" + w).map(BenchTable::number).orElse("-"),
          figure("numpy_" + w).map(BenchTable::number).orElse("-"),
          speedRatio(w, "torch").map(BenchTable::times).orElse("-"),
          speedRatio(w, "numpy").map(BenchTable::times).orElse("-")));
    }
    b.append("ratios: how many times faster Crema is (a ratio > 1: Crema faster), each from two figures of this run.\n");
    if (!torch) {
      b.append("PyTorch: not installed (no python3 with torch); its columns and ratios are skipped.\n");
    }
    if (measured.containsKey("crema_e2e_otto_mini")) {
      b.append("(1) Crema: `crema train` decoding the otto-mini LMDB as it trains. PyTorch: the same rows from\n"
          + "    fixtures/otto-mini/data/train.csv read into memory once (inside the timed span), then the same\n"
          + "    30,000 SGD steps of batch 64 in order. Not the same reader: the same data and the same work.\n");
    }
    if (measured.containsKey("crema_fb_lenet") || measured.containsKey("crema_fb_cifar10_quick")) {
      b.append("(2) One forward and one backward pass of the TRAIN net, no update (what `caffe time` measures), one\n"
          + "    batch of uniform [0, 1) inputs in memory, filler weights. Crema: JMH (VisionBenchmark). PyTorch: the\n"
          + "    same layers and shapes (reference/torch_vision.py: MAX/AVE pooling with ceil_mode as Caffe's).\n");
    }
    if (measured.containsKey("crema_time_lenet") || measured.containsKey("crema_time_cifar10_quick")) {
      b.append("(3) `crema time -iterations 50` (Caffe's `caffe time`): Average Forward-Backward. LeNet reads the\n"
          + "    fixtures/vision-mini LMDB through its Data layer; cifar10_quick has zero-filled Input blobs.\n");
    }
    if (!published.isEmpty()) {
      b.append("\npublished, not measured here (no ratio uses them):\n");
      published.forEach(l -> b.append("  ").append(l).append('\n'));
    }
    return b.toString();
  }

  private static String number(Figure f) {
    double v = f.value();
    return v >= 1000 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }

  private static String times(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }

  /** {@code BenchTable RESULTS_DIR [PUBLISHED_FILE]}: prints the table and writes RESULTS_DIR/table.txt. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    List<String> published = args.length > 1 && Files.exists(Path.of(args[1]))
        ? Files.readAllLines(Path.of(args[1])).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList()
        : List.of();
    String table = read(dir).render(published);
    Files.writeString(dir.resolve("table.txt"), table);
    System.out.print(table);
  }
}
