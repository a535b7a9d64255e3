package crema.cli;

import crema.engine.DataException;
import crema.engine.NetException;
import crema.engine.TrainingDivergedException;
import crema.engine.io.ProtoFormatException;
import java.lang.System.Logger.Level;
import org.slf4j.bridge.SLF4JBridgeHandler;
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
  private static final System.Logger LOG = System.getLogger(Crema.class.getName());

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
      // A glog line like every other: Caffe's failures are log lines (LOG(FATAL)) too.
      LOG.log(Level.ERROR, "crema " + cmd.getCommandName() + ": " + describe(e));
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

  /**
   * One logging path: System.Logger already goes to SLF4J (slf4j-jdk-platform-logging), and with
   * this java.util.logging does too (netlib's BLAS loader logs there), so that logback prints every
   * line in glog's shape (logback.xml).
   */
  static void configureLogging() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }

}
