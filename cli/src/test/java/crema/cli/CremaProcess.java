package crema.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code crema} as a separate process in a given working directory, as a user would. */
final class CremaProcess {
  record Result(int exitCode, String log) {}

  private CremaProcess() {}

  static List<String> command(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    if (Runtime.version().feature() >= 24) {
      cmd.add("--sun-misc-unsafe-memory-access=allow");
      cmd.add("--enable-native-access=ALL-UNNAMED");
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Crema.class.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  static Process start(Path cwd, Path log, String... args) throws IOException {
    return start(cwd, Map.of(), log, args);
  }

  /** With {@code env} added to (or replacing entries of) this process's environment. */
  static Process start(Path cwd, Map<String, String> env, Path log, String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command(args)).directory(cwd.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  static Result run(Path cwd, String... args) throws IOException, InterruptedException {
    return run(cwd, Map.of(), args);
  }

  static Result run(Path cwd, Map<String, String> env, String... args) throws IOException, InterruptedException {
    Path log = Files.createTempFile("crema", ".log");
    Process p = start(cwd, env, log, args);
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("crema " + String.join(" ", args) + " did not finish");
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    return new Result(p.exitValue(), text);
  }
}
