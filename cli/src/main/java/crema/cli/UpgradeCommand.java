package crema.cli;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.io.Prototxt;
import crema.engine.io.Upgrade;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code crema upgrade IN OUT}: rewrites a legacy net (V1 {@code layers}, {@code input_dim}) or
 * solver ({@code solver_type}) in the current format, as Caffe's upgrade_*_proto_text tools do.
 */
@Command(name = "upgrade", description = "Rewrite a legacy net or solver prototxt in the current format.")
final class UpgradeCommand implements Callable<Integer> {
  // Caffe's upgrade tools say these in their log (glog); so does Crema, in the one line format.
  private static final System.Logger LOG = System.getLogger(UpgradeCommand.class.getName());

  @Parameters(index = "0", description = "The legacy prototxt.")
  Path in;

  @Parameters(index = "1", description = "Where to write the upgraded prototxt.")
  Path out;

  @Override
  public Integer call() {
    String text;
    try {
      text = Files.readString(in);
    } catch (IOException e) {
      throw new IllegalArgumentException(in + ": cannot read: " + e.getMessage());
    }
    boolean solver = text.matches("(?s).*\\b(base_lr|solver_type|lr_policy|max_iter)\\s*:.*");
    if (solver) {
      SolverParameter.Builder b = SolverParameter.newBuilder();
      Prototxt.parse(text, in.toString(), b);
      report(Upgrade.solverNeedsUpgrade(b.build()));
      Prototxt.write(Upgrade.solver(b.build(), in.toString()), out);
    } else {
      NetParameter.Builder b = NetParameter.newBuilder();
      Prototxt.parse(text, in.toString(), b);
      report(Upgrade.netNeedsUpgrade(b.build()));
      Prototxt.write(Upgrade.net(b.build(), in.toString()), out);
    }
    LOG.log(Level.INFO, "Wrote upgraded file to " + out);
    return 0;
  }

  private static void report(boolean needed) {
    if (!needed) {
      LOG.log(Level.INFO, "File already in latest proto format.");
    }
  }
}
