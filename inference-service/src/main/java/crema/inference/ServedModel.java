package crema.inference;

import crema.bus.CheckpointDigest;
import crema.engine.Predictor;
import crema.engine.contract.ModelContract;
import crema.engine.io.BinaryProto;
import crema.engine.io.Prototxt;
import crema.proto.Checkpoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One loaded checkpoint, ready to serve: its Predictor and what is known of it. Rows of requests
 * that arrive together are run through the net as one batch by the model's worker thread.
 */
final class ServedModel implements AutoCloseable {
  private record Pending(float[][] rows, CompletableFuture<float[][]> result, long enqueuedNanos) {}

  final Checkpoint checkpoint;
  /** How a raw row becomes the net's input (the checkpoint's model contract). */
  final ModelContract contract;
  final List<String> labels;
  final long loadedAtMs;
  private final Predictor predictor;
  private final int maxBatch;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private volatile boolean closed;
  private final InferenceMetrics.ModelMeters meters;

  private ServedModel(Checkpoint c, Predictor p, ModelContract contract, int maxBatch, InferenceMetrics meters) {
    this.meters = meters.forModel(c.getModel());
    this.checkpoint = c;
    this.predictor = p;
    this.contract = contract;
    this.maxBatch = maxBatch;
    this.loadedAtMs = System.currentTimeMillis();
    this.labels = List.copyOf(contract.labelNames(p.outputSize()));
    worker = new Thread(this::serve, "predict-" + c.getModel() + "-" + c.getIteration());
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Verifies a checkpoint (checksum, the deploy net builds, the weights fit it) and warms it up;
   * any failure is an exception naming what is wrong, and nothing is served from it.
   */
  static ServedModel load(Checkpoint c, int maxBatch, InferenceMetrics meters) {
    String sha = CheckpointDigest.sha256(c.getCaffemodel().toByteArray(), c.getSolverstate().toByteArray());
    if (!sha.equals(c.getSha256())) {
      throw new IllegalArgumentException("checksum mismatch: the record says " + c.getSha256() + ", the bytes are " + sha);
    }
    Predictor p = new Predictor(Prototxt.parseNet(c.getDeployPrototxt(), c.getModel() + " deploy"),
        BinaryProto.parseNet(c.getCaffemodel().toByteArray(), c.getModel() + " caffemodel"));
    // A checkpoint from before model contracts carries labels only: its rows are the net's input.
    crema.proto.ModelContract proto = c.hasContract() ? c.getContract()
        : crema.proto.ModelContract.newBuilder().addAllLabelNames(c.getLabelNamesList()).build();
    ModelContract contract;
    try {
      contract = ModelContract.of(proto, p.inputSize());
    } catch (RuntimeException e) {
      p.close();
      throw new IllegalArgumentException("model contract: " + e.getMessage(), e);
    }
    if (contract.inputSize() != p.inputSize()) {
      p.close();
      throw new IllegalArgumentException("the model contract makes inputs of " + contract.inputSize()
          + " values; the deploy net takes " + p.inputSize());
    }
    p.predict(new float[1][p.inputSize()]);
    return new ServedModel(c, p, contract, maxBatch, meters);
  }

  int classes() {
    return predictor.outputSize();
  }

  /** Probabilities for raw rows (as ingested), which the model contract prepares first. */
  CompletableFuture<float[][]> predict(float[][] raw) {
    float[][] rows;
    try {
      rows = contract.prepare(raw);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
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
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
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
          meters.queue().record(start - p.enqueuedNanos(), TimeUnit.NANOSECONDS);
        }
        meters.batch().record(rows);
        try {
          float[][] out = predictor.predict(all);
          long computed = System.nanoTime() - start;
          for (int i = 0; i < batch.size(); i++) {
            meters.compute().record(computed, TimeUnit.NANOSECONDS);
          }
          k = 0;
          for (Pending p : batch) {
            p.result().complete(Arrays.copyOfRange(out, k, k + p.rows().length));
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
