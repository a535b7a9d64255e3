package crema.cli;

import caffe.Caffe.NetParameter;
import crema.engine.LogNumber;
import crema.engine.Predictor;
import crema.engine.contract.ContractRows;
import crema.engine.contract.ModelContract;
import crema.engine.contract.Scores;
import crema.engine.csv.Labels;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crema predict}: class probabilities for every row of a CSV, with the deploy net and
 * trained weights, written as {@code id,<label names>} (with Otto's labels, Kaggle's submission
 * format). With a label column, prints {@code accuracy = v} last. Given a checkpoint, its model
 * contract reads the CSV as ingest did (columns by name, the id and label columns, log1p) and
 * prepares each row as the TEST net did; the options then only override it.
 */
@Command(name = "predict", description = "Apply a trained model to the rows of a CSV.")
final class PredictCommand implements Callable<Integer> {
  private static final int BATCH = 256;

  @Option(names = {"-model", "--model"}, description = "The deploy net (one Input, one output).")
  Path model;

  @Option(names = {"-weights", "--weights"}, description = "The trained .caffemodel.")
  Path weights;

  @Option(names = {"-checkpoint", "--checkpoint"}, description = "A Crema checkpoint record (from crema.checkpoints):"
      + " its deploy net, weights and model contract; -model and -weights then override its own.")
  Path checkpoint;

  @Option(names = {"-contract", "--contract"}, description = "A model contract as proto3 JSON (the"
      + " <model>.contract.json crema checkpoints writes): how a CSV row becomes the net's input. Overrides a"
      + " checkpoint's own.")
  Path contractJson;

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
    Checkpoint cp = checkpoint == null ? null : Checkpoint.parseFrom(Files.readAllBytes(checkpoint));
    if (cp != null && (cp.hasManifest() || cp.hasPart())) {
      throw new IllegalArgumentException(checkpoint + " is " + (cp.hasPart() ? "a part" : "the manifest")
          + " of a checkpoint in parts, not a whole one: take it out with crema checkpoints --out DIR and predict"
          + " with -model DIR/<run>/deploy.prototxt -weights DIR/<run>/<model>_iter_<N>.caffemodel");
    }
    if ((model == null || weights == null) && cp == null) {
      throw new IllegalArgumentException("predict needs -model and -weights, or -checkpoint");
    }
    NetParameter deploy = model != null ? Prototxt.readNet(model)
        : Prototxt.parseNet(cp.getDeployPrototxt(), checkpoint + " (deploy net)");
    NetParameter trained = weights != null ? BinaryProto.readNet(weights)
        : BinaryProto.parseNet(cp.getCaffemodel().toByteArray(), checkpoint + " (caffemodel)");
    try (Predictor p = new Predictor(deploy, trained)) {
      int classes = p.outputSize();
      crema.proto.ModelContract.Builder terms = cp != null && cp.hasContract() ? cp.getContract().toBuilder()
          : crema.proto.ModelContract.newBuilder();
      if (contractJson != null) {
        terms = crema.proto.ModelContract.newBuilder();
        try {
          com.google.protobuf.util.JsonFormat.parser().merge(Files.readString(contractJson), terms);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalArgumentException(contractJson + ": not a model contract: " + e.getMessage(), e);
        }
      }
      if (labels != null) {
        Labels names = Labels.read(labels);
        if (names.size() != classes) {
          throw new IllegalArgumentException(labels + " lists " + names.size() + " labels; the net's output '"
              + p.outputName() + "' has " + classes);
        }
        terms.clearLabelNames().addAllLabelNames(names.names());
      }
      ModelContract contract = ModelContract.of(terms.build(), p.inputSize());
      if (contract.inputSize() != p.inputSize()) {
        throw new IllegalArgumentException((contractJson != null ? contractJson : checkpoint)
            + ": the model contract makes inputs of "
            + contract.inputSize() + " values; the net's input takes " + p.inputSize());
      }
      List<String> names = contract.labelNames(classes);
      ContractRows.Options o = new ContractRows.Options(idColumn, labelColumn, log1p ? Boolean.TRUE : null, false);
      try (ContractRows rows = ContractRows.csv(contract, classes, Files.newInputStream(input),
          RowParser.DEFAULT_MAX_LINE_BYTES, o);
          BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
        out.write("id");
        for (String name : names) {
          out.write("," + name);
        }
        out.write("\n");
        List<ContractRows.Row> batch = new ArrayList<>();
        Scores scores = new Scores();
        ContractRows.Row row;
        do {
          row = next(rows);
          if (row != null) {
            batch.add(row);
          }
          if (batch.size() == BATCH || (row == null && !batch.isEmpty())) {
            float[][] raw = new float[batch.size()][];
            for (int i = 0; i < raw.length; i++) {
              raw[i] = batch.get(i).values();
            }
            float[][] probs = p.predict(contract.prepare(raw));
            for (int i = 0; i < probs.length; i++) {
              ContractRows.Row r = batch.get(i);
              out.write(r.id() != null ? r.id() : Long.toString(r.line() - 1));
              for (int c = 0; c < classes; c++) {
                out.write(',');
                out.write(Float.toString(probs[i][c]));
              }
              out.write('\n');
              if (r.label() >= 0) {
                scores.add(probs[i], r.label());
              }
            }
            batch.clear();
          }
        } while (row != null);
        if (rows.hasLabel()) {
          System.out.println("accuracy = " + LogNumber.format(scores.accuracy()));
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where(e.getMessage()), e);
      }
    }
    return 0;
  }

  private ContractRows.Row next(ContractRows rows) throws IOException {
    try {
      return rows.next();
    } catch (RowRejectedException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
  }

  /** "line N: …" as a compiler would say it: "input.csv:N: …". */
  private String where(String message) {
    var m = Pattern.compile("^line (\\d+): (.*)$", Pattern.DOTALL).matcher(message);
    return m.matches() ? input + ":" + m.group(1) + ": " + m.group(2) : input + ": " + message;
  }
}
