package crema.cli;

import crema.engine.DataException;
import crema.engine.NetException;
import crema.engine.TrainingDivergedException;
import crema.engine.io.ProtoFormatException;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code crema} command: Caffe's actions and flags ({@code train}, {@code test}, {@code time},
 * {@code device_query}) plus Crema's own tools. Flags are accepted as {@code -flag value},
 * {@code --flag=value} and {@code -flag=value}, as Caffe's gflags accept them.
 */
@Command(name = "crema", mixinStandardHelpOptions = true, version = "crema 0.1.0 (caffe 1.0.0 compatible)",
    description = "Caffe-style deep learning on the JVM.",
    subcommands = {TrainCommand.class, TestCommand.class, TimeCommand.class, DeviceQueryCommand.class,
        ConvertCommand.class, PredictCommand.class, DrawCommand.class, WeightsCommand.class,
        UpgradeCommand.class, ConformanceCommand.class, BenchCommand.class, CheckpointsCommand.class,
        ConvertImagesetCommand.class, ComputeImageMeanCommand.class})
public final class Crema implements Runnable {
  @Override
  public void run() {
    CommandLine.usage(this, System.err);
    System.err.println("Available crema actions: train, test, time, device_query, convert, predict, draw, weights, upgrade, checkpoints (and up, from bin/crema)");
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line; returns the exit code. */
  public static int run(String... args) {
    configureLogging();
    CommandLine cli = new CommandLine(new Crema());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("crema " + cmd.getCommandName() + ": " + describe(e));
      cmd.getErr().flush();
      return 1;
    });
    return cli.execute(args);
  }

  static String describe(Throwable e) {
    if (e instanceof NetException || e instanceof DataException || e instanceof ProtoFormatException
        || e instanceof TrainingDivergedException || e instanceof IllegalArgumentException
        || e instanceof IllegalStateException) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  static void configureLogging() {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler h = new ConsoleHandler();
    h.setFormatter(new GlogFormatter());
    h.setLevel(Level.ALL);
    root.addHandler(h);
    root.setLevel(Level.INFO);
  }

}
