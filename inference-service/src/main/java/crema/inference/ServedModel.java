package crema.inference;

import crema.engine.Predictor;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One loaded checkpoint, ready to serve: its Predictor and what is known of it. Rows of requests
 * that arrive together are run through the net as one batch by the model's worker thread.
 */
final class ServedModel implements AutoCloseable {
  private record Pending(float[][] rows, CompletableFuture<float[][]> result, long enqueuedNanos) {}

  final Checkpoint checkpoint;
  final List<String> labels;
  final long loadedAtMs;
  private final Predictor predictor;
  private final int maxBatch;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private volatile boolean closed;
  private final InferenceMetrics.ModelMeters meters;

  private ServedModel(Checkpoint c, Predictor p, int maxBatch, InferenceMetrics meters) {
    this.meters = meters.forModel(c.getModel());
    this.checkpoint = c;
    this.predictor = p;
    this.maxBatch = maxBatch;
    this.loadedAtMs = System.currentTimeMillis();
    List<String> names = new ArrayList<>(c.getLabelNamesList());
    if (names.size() != p.outputSize()) {
      names.clear();
      for (int i = 0; i < p.outputSize(); i++) {
        names.add(Integer.toString(i));
      }
    }
    this.labels = List.copyOf(names);
    worker = new Thread(this::serve, "predict-" + c.getModel() + "-" + c.getIteration());
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Verifies a checkpoint (checksum, the deploy net builds, the weights fit it) and warms it up;
   * any failure is an exception naming what is wrong, and nothing is served from it.
   */
  static ServedModel load(Checkpoint c, int maxBatch, InferenceMetrics meters) {
    String sha = crema.bus.CheckpointDigest.sha256(c.getCaffemodel().toByteArray(), c.getSolverstate().toByteArray());
    if (!sha.equals(c.getSha256())) {
      throw new IllegalArgumentException("checksum mismatch: the record says " + c.getSha256() + ", the bytes are " + sha);
    }
    Predictor p = new Predictor(Prototxt.parseNet(c.getDeployPrototxt(), c.getModel() + " deploy"),
        BinaryProto.parseNet(c.getCaffemodel().toByteArray(), c.getModel() + " caffemodel"));
    p.predict(new float[1][p.inputSize()]);
    return new ServedModel(c, p, maxBatch, meters);
  }

  int inputSize() {
    return predictor.inputSize();
  }

  CompletableFuture<float[][]> predict(float[][] rows) {
    CompletableFuture<float[][]> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new IllegalStateException("model was replaced; retry"));
      return f;
    }
    queue.add(new Pending(rows, f, System.nanoTime()));
    return f;
  }

  private void serve() {
    List<Pending> batch = new ArrayList<>();
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.clear();
        batch.add(first);
        int rows = first.rows().length;
        Pending next;
        while (rows < maxBatch && (next = queue.peek()) != null && rows + next.rows().length <= maxBatch) {
          batch.add(queue.poll());
          rows += next.rows().length;
        }
        float[][] all = new float[rows][];
        int k = 0;
        for (Pending p : batch) {
          for (float[] r : p.rows()) {
            all[k++] = r;
          }
        }
        long start = System.nanoTime();
        for (Pending p : batch) {
          meters.queue().record(start - p.enqueuedNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        meters.batch().record(rows);
        try {
          float[][] out = predictor.predict(all);
          long computed = System.nanoTime() - start;
          for (int i = 0; i < batch.size(); i++) {
            meters.compute().record(computed, java.util.concurrent.TimeUnit.NANOSECONDS);
          }
          k = 0;
          for (Pending p : batch) {
            p.result().complete(java.util.Arrays.copyOfRange(out, k, k + p.rows().length));
            k += p.rows().length;
          }
        } catch (RuntimeException e) {
          batch.forEach(p -> p.result().completeExceptionally(e));
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      worker.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    predictor.close();
  }
}
