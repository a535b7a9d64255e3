package crema.inference;

import crema.client.ProtoJson;
import crema.proto.Checkpoint;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.json.JsonMapper;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * A model's checkpoints, every one on the topic (not only the served one), as files: the list,
 * each file's bytes with its digest, and a server-sent-event stream of new ones. The files are
 * those {@code crema checkpoints --out} writes, byte for byte.
 */
@Requires(property = "crema.services.inference", notEquals = "false")
@Controller("/v1/models")
@ExecuteOn(TaskExecutors.BLOCKING)
public class CheckpointsController {
  /** The files of a checkpoint, by the name the URL gives them. */
  static final List<String> FILES = List.of("caffemodel", "solverstate", "deploy.prototxt", "contract");
  private static final Duration WATCH_PERIOD = Duration.ofMillis(100);

  /** One checkpoint as listed and as streamed; {@code id} is the event id ("partition-offset"). */
  @Serdeable
  public record CheckpointView(String id, String model, String run, int iteration, Map<String, Double> metrics,
      int size, String sha256, long createdMs, Map<String, String> files) {
    static CheckpointView of(CheckpointIndex.Entry e) {
      Map<String, String> files = new java.util.LinkedHashMap<>();
      for (String f : FILES) {
        files.put(f, "/v1/models/" + e.model() + "/checkpoints/" + e.iteration() + "/" + f + "?run=" + e.run());
      }
      return new CheckpointView(e.id(), e.model(), e.run(), e.iteration(), e.metrics(), e.size(), e.sha256(),
          e.createdMs(), files);
    }
  }

  private final CheckpointIndex index;
  private final JsonMapper json;

  public CheckpointsController(CheckpointIndex index, JsonMapper json) {
    this.index = index;
    this.json = json;
  }

  /** {@code GET /v1/models/{name}/checkpoints}: every checkpoint of the model (of one run with {@code ?run=}). */
  @Get("/{name}/checkpoints")
  public HttpResponse<?> list(@PathVariable String name, @Nullable @QueryValue String run) {
    List<CheckpointIndex.Entry> all = index.of(name);
    if (all.isEmpty()) {
      return HttpResponse.notFound(Map.of("error", "no checkpoints of model '" + name + "' on the topic"));
    }
    return HttpResponse.ok(all.stream().filter(e -> run == null || run.equals(e.run())).map(CheckpointView::of)
        .toList());
  }

  /**
   * {@code GET /v1/models/{name}/checkpoints/{iteration}/{file}}: caffemodel, solverstate,
   * deploy.prototxt or contract (JSON), with {@code Repr-Digest} (RFC 9530) and {@code Digest}
   * over the bytes sent and {@code X-Crema-Checkpoint-Sha256}, the record's own sha256. The newest
   * checkpoint at that iteration unless {@code ?run=} names the run.
   */
  @Get(value = "/{name}/checkpoints/{iteration}/{file}", produces = {MediaType.APPLICATION_OCTET_STREAM,
      MediaType.TEXT_PLAIN, MediaType.APPLICATION_JSON})
  public HttpResponse<?> file(@PathVariable String name, @PathVariable int iteration, @PathVariable String file,
      @Nullable @QueryValue String run) {
    if (!FILES.contains(file)) {
      return HttpResponse.notFound(Map.<String, String>of("error", "a checkpoint has the files " + String.join(", ", FILES)
          + "; not '" + file + "'")).contentType(MediaType.APPLICATION_JSON_TYPE);
    }
    var entry = index.find(name, iteration, run);
    if (entry.isEmpty()) {
      return HttpResponse.notFound(Map.of("error", "no checkpoint of model '" + name + "' at iteration " + iteration
          + (run == null ? "" : " of run " + run))).contentType(MediaType.APPLICATION_JSON_TYPE);
    }
    Checkpoint c;
    try {
      c = index.read(entry.get());
    } catch (IllegalStateException e) {
      return HttpResponse.serverError(Map.of("error", e.getMessage())).contentType(MediaType.APPLICATION_JSON_TYPE);
    }
    String base = c.getModel() + "_iter_" + c.getIteration();
    byte[] bytes;
    String type;
    String filename;
    switch (file) {
      case "caffemodel" -> {
        bytes = c.getCaffemodel().toByteArray();
        type = MediaType.APPLICATION_OCTET_STREAM;
        filename = base + ".caffemodel";
      }
      case "solverstate" -> {
        bytes = c.getSolverstate().toByteArray();
        type = MediaType.APPLICATION_OCTET_STREAM;
        filename = base + ".solverstate";
      }
      case "deploy.prototxt" -> {
        bytes = c.getDeployPrototxt().getBytes(StandardCharsets.UTF_8);
        type = MediaType.TEXT_PLAIN + ";charset=utf-8";
        filename = "deploy.prototxt";
      }
      default -> {
        bytes = ProtoJson.print(c.getContract()).getBytes(StandardCharsets.UTF_8);
        type = MediaType.APPLICATION_JSON;
        filename = c.getModel() + ".contract.json";
      }
    }
    String sha = Base64.getEncoder().encodeToString(sha256(bytes));
    return HttpResponse.ok(bytes).contentType(type).header("Repr-Digest", "sha-256=:" + sha + ":")
        .header("Digest", "SHA-256=" + sha).header("X-Crema-Checkpoint-Sha256", c.getSha256())
        .header("X-Crema-Run", c.getRun()).header(HttpHeaders.ETAG, "\"" + c.getSha256() + "-" + file + "\"")
        .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + filename + "\"");
  }

  /**
   * {@code GET /v1/models/{name}/checkpoints:watch}: one {@code checkpoint} event per new checkpoint
   * of the model (of one run with {@code ?run=}), its id "partition-offset". With
   * {@code Last-Event-ID} (sent by an EventSource that reconnects), the stream resumes after that
   * checkpoint; with {@code ?from=start}, it begins with every checkpoint already on the topic.
   */
  @Get(value = "/{name}/checkpoints:watch", produces = MediaType.TEXT_EVENT_STREAM)
  @ExecuteOn(TaskExecutors.IO)
  public Publisher<Event<String>> watch(@PathVariable String name, @Nullable @QueryValue String run,
      @Nullable @QueryValue String from, @Nullable @Header("Last-Event-ID") String lastEventId) {
    return Flux.defer(() -> {
      Cursor cursor = new Cursor(name, run, lastEventId, "start".equals(from));
      return Flux.interval(Duration.ZERO, WATCH_PERIOD).concatMapIterable(t -> cursor.fresh())
          .map(e -> Event.of(write(CheckpointView.of(e))).name("checkpoint").id(e.id()));
    });
  }

  private String write(Object o) {
    try {
      return json.writeValueAsString(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Where one watcher stands: how many of the model's index entries it has been handed. */
  private final class Cursor {
    private final String model;
    private final String run;
    private int next;
    private long version = -1;

    Cursor(String model, String run, String lastEventId, boolean fromStart) {
      this.model = model;
      this.run = run;
      List<CheckpointIndex.Entry> now = index.of(model);
      next = fromStart ? 0 : now.size();
      if (lastEventId != null && !lastEventId.isBlank()) {
        next = 0;
        for (int i = 0; i < now.size(); i++) {
          if (now.get(i).id().equals(lastEventId.strip())) {
            next = i + 1;
          }
        }
      }
    }

    List<CheckpointIndex.Entry> fresh() {
      long v = index.version();
      if (v == version) {
        return List.of();
      }
      version = v;
      List<CheckpointIndex.Entry> all = index.of(model);
      List<CheckpointIndex.Entry> out = new ArrayList<>();
      for (; next < all.size(); next++) {
        if (run == null || run.equals(all.get(next).run())) {
          out.add(all.get(next));
        }
      }
      return out;
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
