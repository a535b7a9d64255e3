package crema.cli;

import crema.engine.LogNumber;
import crema.engine.Predictor;
import crema.engine.csv.CsvLines;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.Labels;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema predict}: class probabilities for every row of a CSV, with the deploy net and
 * trained weights, written as {@code id,<label names>} (with Otto's labels, Kaggle's submission
 * format). With a label column, prints {@code accuracy = v} last.
 */
@Command(name = "predict", description = "Apply a trained model to the rows of a CSV.")
final class PredictCommand implements Callable<Integer> {
  private static final int BATCH = 256;

  @Option(names = {"-model", "--model"}, required = true, description = "The deploy net (one Input, one output).")
  Path model;

  @Option(names = {"-weights", "--weights"}, required = true, description = "The trained .caffemodel.")
  Path weights;

  @Option(names = {"-input", "--input"}, required = true, description = "The CSV of rows, with a header.")
  Path input;

  @Option(names = {"-output", "--output"}, required = true, description = "Where to write the probabilities.")
  Path output;

  @Option(names = "--id-column", description = "The column holding the row id; without it, the line number.")
  String idColumn;

  @Option(names = "--label-column", description = "A column of true labels: left out of the features, and accuracy is printed.")
  String labelColumn;

  @Option(names = "--log1p", description = "Transform features with ln(1 + x), as convert --log1p did.")
  boolean log1p;

  @Option(names = "--labels", description = "The label names, one per line (convert writes LMDB/labels.txt).")
  Path labels;

  @Override
  public Integer call() throws IOException {
    Labels names = labels != null ? Labels.read(labels) : null;
    try (Predictor p = new Predictor(Prototxt.readNet(model), BinaryProto.readNet(weights));
        CsvLines lines = new CsvLines(Files.newInputStream(input), RowParser.DEFAULT_MAX_LINE_BYTES);
        BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
      int classes = p.outputSize();
      if (names != null && names.size() != classes) {
        throw new IllegalArgumentException(labels + " lists " + names.size() + " labels; the net's output '"
            + p.outputName() + "' has " + classes);
      }
      byte[] head = lines.next();
      if (head == null) {
        throw new IllegalArgumentException(input + ": the file is empty; it needs a header line");
      }
      CsvSchema schema;
      try {
        schema = CsvSchema.of(RowParser.fields(head, RowParser.DEFAULT_MAX_LINE_BYTES), idColumn, labelColumn);
      } catch (RowRejectedException e) {
        throw new IllegalArgumentException(input + ":1: header: " + e.getMessage());
      }
      if (schema.featureCount() != p.inputSize()) {
        throw new IllegalArgumentException(input + ":1: the CSV has " + schema.featureCount()
            + " feature columns; the net's input takes " + p.inputSize()
            + (idColumn == null ? " (name the id column with --id-column)" : "")
            + (labelColumn == null ? " (name a label column with --label-column)" : ""));
      }
      out.write("id");
      for (int c = 0; c < classes; c++) {
        out.write("," + (names != null ? names.names().get(c) : Integer.toString(c)));
      }
      out.write("\n");
      List<String> ids = new ArrayList<>();
      List<float[]> rows = new ArrayList<>();
      List<Integer> truth = new ArrayList<>();
      long right = 0;
      long labelled = 0;
      byte[] line;
      while (true) {
        line = lines.next();
        if (line != null) {
          long n = lines.lineNumber();
          List<String> f;
          try {
            f = RowParser.fields(line, RowParser.DEFAULT_MAX_LINE_BYTES);
            if (f.size() != schema.columns()) {
              throw new RowRejectedException("column_count", "expected " + schema.columns() + " columns, found " + f.size());
            }
            float[] x = new float[schema.featureCount()];
            for (int i = 0; i < x.length; i++) {
              int c = schema.featureColumn(i);
              x[i] = RowParser.feature(f.get(c), schema.header().get(c), log1p);
            }
            rows.add(x);
            ids.add(schema.idColumn() >= 0 ? f.get(schema.idColumn()).strip() : Long.toString(n - 1));
            truth.add(schema.hasLabel() ? label(f.get(schema.labelColumn()).strip(), names, classes) : -1);
          } catch (RowRejectedException e) {
            throw new IllegalArgumentException(input + ":" + n + ": " + e.getMessage());
          }
        }
        if (rows.size() == BATCH || (line == null && !rows.isEmpty())) {
          float[][] probs = p.predict(rows.toArray(new float[0][]));
          for (int i = 0; i < probs.length; i++) {
            out.write(ids.get(i));
            int best = 0;
            for (int c = 0; c < classes; c++) {
              out.write(',');
              out.write(Float.toString(probs[i][c]));
              if (probs[i][c] > probs[i][best]) {
                best = c;
              }
            }
            out.write('\n');
            if (truth.get(i) >= 0) {
              labelled++;
              right += best == truth.get(i) ? 1 : 0;
            }
          }
          rows.clear();
          ids.clear();
          truth.clear();
        }
        if (line == null) {
          break;
        }
      }
      if (schema.hasLabel()) {
        System.out.println("accuracy = " + LogNumber.format(labelled == 0 ? 0 : (double) right / labelled));
      }
    }
    return 0;
  }

  private static int label(String value, Labels names, int classes) throws RowRejectedException {
    int i = -1;
    if (names != null) {
      i = names.indexOf(value);
    } else if (value.matches("\\d{1,9}")) {
      i = Integer.parseInt(value);
    }
    if (i < 0 || i >= classes) {
      throw new RowRejectedException("unknown_label", "unknown label '" + value + "'"
          + (names == null ? " (give the label names with --labels)" : ""));
    }
    return i;
  }
}
