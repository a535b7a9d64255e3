package crema.cli;

import crema.engine.csv.CsvConverter;
import crema.engine.csv.RowParser;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crema convert CSV LMDB}: rows of a CSV into an LMDB of Datum records, as Caffe's tools
 * and the Otto notebook write them. Bad rows are reported with file and line and skipped; the
 * exit code is 2 when any row was bad.
 */
@Command(name = "convert", description = "Convert a CSV with a header into an LMDB of Datum records.")
final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "The CSV file; its first line is the header.")
  Path csv;

  @Parameters(index = "1", description = "The LMDB directory to create.")
  Path lmdb;

  @Option(names = "--label-column", description = "The column holding the label; labels map to 0..K-1 in sorted order unless --labels gives them.")
  String labelColumn;

  @Option(names = "--id-column", description = "The column holding the row id (not a feature).")
  String idColumn;

  @Option(names = "--log1p", description = "Store ln(1 + x) for every feature, as the Otto notebook does.")
  boolean log1p;

  @Option(names = "--labels", description = "A file listing the label names, one per line, in index order.")
  Path labels;

  @Option(names = "--test-fraction", defaultValue = "0", description = "Put this fraction of each class into --test-output (a stratified split).")
  double testFraction;

  @Option(names = "--test-output", description = "The LMDB directory for the test split.")
  Path testOutput;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the stratified split.")
  long seed;

  @Option(names = "--shape", split = ",", paramLabel = "C,H,W", description = "Rows are images of this shape: store them as uint8 pixel Datums (channels, height, width), each value an integer 0..255.")
  int[] shape;

  @Option(names = "--max-line-bytes", defaultValue = "" + RowParser.DEFAULT_MAX_LINE_BYTES, description = "Refuse lines longer than this.")
  int maxLineBytes;

  @Override
  public Integer call() throws Exception {
    PrintStream err = System.err;
    long size = Files.size(csv);
    var options = new CsvConverter.Options(labelColumn, idColumn, log1p, labels, testFraction, seed, maxLineBytes,
        shape);
    CsvConverter.Result r;
    boolean terminal = System.console() != null;
    try (ProgressBar bar = terminal ? new ProgressBarBuilder().setTaskName("convert").setInitialMax(size)
        .setStyle(ProgressBarStyle.ASCII).setUnit(" MiB", 1 << 20).setConsumer(
            new me.tongfei.progressbar.ConsoleProgressBarConsumer(err)).build() : null) {
      r = CsvConverter.convert(csv, lmdb, testOutput, options,
          rejection -> err.println(rejection.source() + ":" + rejection.line() + ": " + rejection.reason()),
          bytes -> {
            if (bar != null) {
              bar.stepTo(bytes);
            }
          });
    }
    err.println("accepted " + r.accepted() + " rows, rejected " + r.rejected() + " rows: "
        + r.train() + " to " + lmdb + (testOutput != null ? ", " + r.test() + " to " + testOutput : "")
        + "; " + r.schema().featureCount() + " features"
        + (r.labels() != null ? "; labels " + r.labels().names() + " in " + lmdb.resolve("labels.txt") : ""));
    return r.rejected() > 0 ? 2 : 0;
  }
}
