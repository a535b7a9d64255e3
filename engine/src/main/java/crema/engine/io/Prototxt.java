package crema.engine.io;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads and writes Caffe's text formats. Every read applies Caffe's upgrades (V1 {@code layers},
 * {@code input}/{@code input_dim}, BatchNorm params, {@code solver_type}); a syntax error or an
 * unknown field is reported as {@code file:line:column: message}.
 */
public final class Prototxt {
  private static final System.Logger LOG = System.getLogger(Prototxt.class.getName());

  private Prototxt() {}

  /** Parses a text NetParameter from a file (paths are relative to the working directory). */
  public static NetParameter readNet(Path file) {
    NetParameter.Builder b = NetParameter.newBuilder();
    parse(read(file), file.toString(), b);
    return Upgrade.net(b.build(), file.toString());
  }

  /** Parses a text NetParameter given as a string; {@code name} names it in messages. */
  public static NetParameter parseNet(String text, String name) {
    NetParameter.Builder b = NetParameter.newBuilder();
    parse(text, name, b);
    return Upgrade.net(b.build(), name);
  }

  /**
   * Parses a solver and applies Caffe's solver upgrades, including the default snapshot_prefix
   * (the solver file's path without extension, or {@code dir/<solver stem>} when the prefix names
   * a directory).
   */
  public static SolverParameter readSolver(Path file) {
    SolverParameter.Builder b = SolverParameter.newBuilder();
    parse(read(file), file.toString(), b);
    SolverParameter s = Upgrade.solver(b.build(), file.toString());
    String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
    if (!s.hasSnapshotPrefix()) {
      Path parent = file.getParent();
      String prefix = parent == null ? stem : parent.resolve(stem).toString();
      LOG.log(Level.INFO, "snapshot_prefix was not specified and is set to " + prefix);
      s = s.toBuilder().setSnapshotPrefix(prefix).build();
    } else if (Files.isDirectory(Path.of(s.getSnapshotPrefix()))) {
      s = s.toBuilder().setSnapshotPrefix(Path.of(s.getSnapshotPrefix()).resolve(stem).toString()).build();
    }
    return s;
  }

  public static SolverParameter parseSolver(String text, String name) {
    SolverParameter.Builder b = SolverParameter.newBuilder();
    parse(text, name, b);
    return Upgrade.solver(b.build(), name);
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ProtoFormatException(file + ": no such file (paths are relative to the working"
          + " directory " + Path.of("").toAbsolutePath() + ")");
    } catch (IOException e) {
      throw new ProtoFormatException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Parses text into {@code builder}; errors carry file:line:column. */
  public static void parse(String text, String name, Message.Builder builder) {
    try {
      TextFormat.getParser().merge(text, builder);
    } catch (TextFormat.ParseException e) {
      String msg = e.getMessage().replaceFirst("^\\d+:\\d+: ", "");
      throw new ProtoFormatException(name + ":" + e.getLine() + ":" + e.getColumn() + ": " + msg, e);
    }
  }

  /** Prints a message in Caffe's text format. */
  public static String print(Message message) {
    return TextFormat.printer().printToString(message);
  }

  public static void write(Message message, Path file) {
    try {
      Files.writeString(file, print(message), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ProtoFormatException(file + ": cannot write: " + e.getMessage(), e);
    }
  }
}
