package crema.pipeline;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A service run as its own process from its shaded jar, as an operator runs it. */
final class ServiceProcess implements AutoCloseable {
  final String name;
  final int port;
  private final List<String> command;
  private final Path log;
  private final Map<String, String> env = new HashMap<>();
  private Process process;

  ServiceProcess(String name, String bootstrapServers, Path logDir, String... extraArgs) throws IOException {
    this.name = name;
    this.port = PipelineSupport.freePort();
    Path jar = Path.of("").toAbsolutePath().getParent().resolve(name + "-service/target/crema-" + name + ".jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing: build the services first (mvn package)");
    }
    command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx1g", "-jar", jar.toString(),
        "-micronaut.server.port=" + port, "-kafka.bootstrap.servers=" + bootstrapServers));
    command.addAll(List.of(extraArgs));
    this.log = logDir.resolve(name + ".log");
  }

  /** The process's maximum heap, {@code -Xmx} (before {@link #start}; default 1g). */
  ServiceProcess heap(String xmx) {
    command.replaceAll(a -> a.startsWith("-Xmx") ? "-Xmx" + xmx : a);
    return this;
  }

  /** Sets an environment variable of the process (before {@link #start}). */
  ServiceProcess env(String name, String value) {
    env.put(name, value);
    return this;
  }

  String url() {
    return "http://localhost:" + port;
  }

  ServiceProcess start() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
    HttpClient client = HttpClient.newHttpClient();
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited: " + Files.readString(log));
      }
      try {
        var r = client.send(HttpRequest.newBuilder(URI.create(url() + "/health/liveness")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() < 500) {
          return this;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(name + " did not start: " + Files.readString(log));
  }

  /** SIGKILL: no shutdown hooks, no final snapshot. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
