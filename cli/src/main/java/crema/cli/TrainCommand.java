package crema.cli;

import caffe.Caffe.SolverParameter;
import crema.engine.Solver;
import crema.engine.io.Prototxt;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code crema train}: train or fine-tune a model, as {@code caffe train}. */
@Command(name = "train", description = "Train or fine-tune a model.")
final class TrainCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(TrainCommand.class.getName());

  @Option(names = {"-solver", "--solver"}, required = true, description = "The solver definition protocol buffer text file.")
  String solver;

  @Option(names = {"-weights", "--weights"}, description = "Pretrained .caffemodel(s) to fine-tune from, comma-separated. Cannot be combined with -snapshot.")
  String weights;

  @Option(names = {"-snapshot", "--snapshot"}, description = "A .solverstate to resume training from.")
  String snapshot;

  @Option(names = {"-gpu", "--gpu"}, defaultValue = "", description = "GPU device ids, comma-separated, or 'all'. Empty: the CPU.")
  String gpu;

  @Option(names = {"-level", "--level"}, defaultValue = "0", description = "NetState level for the train net.")
  int level;

  @Option(names = {"-stage", "--stage"}, defaultValue = "", description = "NetState stages for the train net, comma-separated.")
  String stage;

  @Option(names = {"-sigint_effect", "--sigint_effect"}, defaultValue = "stop", description = "On SIGINT: snapshot, stop or none.")
  String sigintEffect;

  @Option(names = {"-sighup_effect", "--sighup_effect"}, defaultValue = "snapshot", description = "On SIGHUP: snapshot, stop or none.")
  String sighupEffect;

  @Override
  public Integer call() {
    if (snapshot != null && weights != null) {
      throw new IllegalArgumentException("Give a snapshot to resume training or weights to finetune but not both.");
    }
    SolverParameter param = Prototxt.readSolver(Path.of(solver));
    SolverParameter.Builder b = param.toBuilder();
    b.getTrainStateBuilder().setLevel(level).addAllStage(Flags.commaList(stage));
    List<Path> weightFiles = new ArrayList<>();
    if (weights != null) {
      Flags.commaList(weights).forEach(w -> weightFiles.add(Path.of(w)));
    } else if (snapshot == null) {
      for (String w : param.getWeightsList()) {
        Flags.commaList(w).forEach(x -> weightFiles.add(Path.of(x)));
      }
    }
    b.clearWeights();
    try (Gpus gpus = Gpus.open(gpu, param).useFirst(); Solver s = Solver.create(b.build())) {
      if (gpus.devices().size() > 1) {
        throw new IllegalArgumentException("-gpu " + gpu + ": training on more than one GPU is not built yet;"
            + " give one id");
      }
      Signals.install(s, action(sigintEffect, "sigint_effect"), action(sighupEffect, "sighup_effect"));
      s.copyWeightsFrom(weightFiles);
      LOG.log(Level.INFO, "Starting Optimization");
      s.solve(snapshot == null ? null : Path.of(snapshot));
    }
    return 0;
  }

  private static Solver.Action action(String effect, String flag) {
    return switch (effect) {
      case "stop" -> Solver.Action.STOP;
      case "snapshot" -> Solver.Action.SNAPSHOT;
      case "none" -> Solver.Action.NONE;
      default -> throw new IllegalArgumentException("Invalid signal effect \"" + effect + "\" for -"
          + flag + " (use snapshot, stop or none)");
    };
  }
}
