package crema.inference;

import caffe.Caffe.NetParameter;
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
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded checkpoint, ready to serve: its Predictors and what is known of it.
 *
 * <p>A small request runs on the caller's thread, on an idle <em>lane</em>: a Predictor of its
 * own with input and output arrays it keeps, so a batch-1 answer takes no thread hand-off and
 * allocates nothing but the result. Lanes are made as concurrent requests need them, up to one
 * per core. When every lane is busy, or a request is large, its rows queue for the model's worker
 * thread, which runs the rows of requests that arrive together through the net as one batch.
 */
final class ServedModel implements AutoCloseable {
  /** A request's rows, already prepared (the contract applied). The poison pill has none. */
  private record Pending(float[][] rows, CompletableFuture<float[][]> result, long enqueuedNanos) {}

  private static final Pending STOP = new Pending(new float[0][], null, 0);

  /** Raised to a request that met a model just replaced by a newer checkpoint; it asks the new one. */
  static final class ReplacedException extends IllegalStateException {
    ReplacedException() {
      super("model was replaced; retry");
    }
  }

  /** A Predictor with the arrays it reads from and writes to, used by one request at a time. */
  private static final class Lane {
    final Predictor predictor;
    final float[] in;
    final float[] out;

    Lane(Predictor p, int rows) {
      predictor = p;
      in = new float[rows * p.inputSize()];
      out = new float[rows * p.outputSize()];
    }
  }

  final Checkpoint checkpoint;
  /** How a raw row becomes the net's input (the checkpoint's model contract). */
  final ModelContract contract;
  final List<String> labels;
  final long loadedAtMs;
  private final NetParameter deploy;
  private final NetParameter weights;
  private final Predictor predictor;
  private final int maxBatch;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private final InferenceMetrics.ModelMeters meters;
  /** Requests of at most this many rows may run on a lane; larger ones gain from the worker's batching. */
  static final int LANE_ROWS = 16;
  private final int maxLanes = Math.max(1, Runtime.getRuntime().availableProcessors());
  private final ConcurrentLinkedDeque<Lane> idle = new ConcurrentLinkedDeque<>();
  private final List<Lane> lanes = new ArrayList<>();
  /** Requests between their check of {@link #closed} and their hand-over: close() waits for them. */
  private final AtomicInteger entered = new AtomicInteger();
  private volatile boolean closed;

  private ServedModel(Checkpoint c, NetParameter deploy, NetParameter weights, Predictor p, ModelContract contract,
      int maxBatch, InferenceMetrics meters) {
    this.meters = meters.forModel(c.getModel());
    this.checkpoint = c;
    this.deploy = deploy;
    this.weights = weights;
    this.predictor = p;
    this.contract = contract;
    this.maxBatch = maxBatch;
    this.labels = List.copyOf(contract.labelNames(p.outputSize()));
    this.imageShape = imageShape(contract, p);
    Lane first = new Lane(new Predictor(deploy, weights), LANE_ROWS);
    // Warmed up here, before the model is served: the first request finds the net shaped for one row.
    first.predictor.predict(first.in, 1, first.out);
    lanes.add(first);
    idle.push(first);
    worker = new Thread(this::serve, "predict-" + c.getModel() + "-" + c.getIteration());
    worker.setDaemon(true);
    worker.start();
    this.loadedAtMs = System.currentTimeMillis();
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
    NetParameter deploy = Prototxt.parseNet(c.getDeployPrototxt(), c.getModel() + " deploy");
    NetParameter weights = BinaryProto.parseNet(c.getCaffemodel().toByteArray(), c.getModel() + " caffemodel");
    Predictor p = new Predictor(deploy, weights);
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
    return new ServedModel(c, deploy, weights, p, contract, maxBatch, meters);
  }

  int classes() {
    return predictor.outputSize();
  }

  /**
   * C, H, W of the images this model takes, or null when neither the contract nor the net says: the
   * contract's input shape when it is an image's (H or W above 1), else the deploy net's Input blob
   * when it is N×C×H×W and no crop hides the raw size. C·H·W is the contract's raw row size.
   */
  final int[] imageShape;

  private static int[] imageShape(ModelContract contract, Predictor p) {
    var proto = contract.proto();
    if (proto.getInputShapeCount() == 3 && (proto.getInputShape(1) > 1 || proto.getInputShape(2) > 1)) {
      return new int[] {proto.getInputShape(0), proto.getInputShape(1), proto.getInputShape(2)};
    }
    boolean crop = proto.hasTransform() && proto.getTransform().getCropSize() > 0;
    int[] s = p.net().blob(p.net().inputNames().get(0)).shape();
    if (crop || s.length != 4 || s[1] * s[2] * s[3] != contract.rawSize()) {
      return null;
    }
    return new int[] {s[1], s[2], s[3]};
  }

  /**
   * An uploaded PNG/JPEG as a raw row: decoded as ingest decodes it (BGR planes, or one grey plane
   * for a one-channel model), resized to the model's H × W when it differs (convert_imageset's
   * bilinear resize), pixel values 0..255 in C×H×W order. The contract's transform follows in
   * {@link #predict}, as for any row.
   *
   * @throws IllegalArgumentException naming what is wrong: not an image, a model that takes no images
   */
  float[] imageRow(byte[] bytes) {
    if (imageShape == null) {
      throw new IllegalArgumentException("model '" + checkpoint.getModel() + "' takes no images: neither its contract"
          + " nor its deploy net's Input blob gives an image's C,H,W (its rows have " + contract.rawSize() + " values)");
    }
    int c = imageShape[0];
    if (c != 1 && c != 3) {
      throw new IllegalArgumentException("model '" + checkpoint.getModel() + "' takes images of " + c
          + " channels; an uploaded image has 1 (grey) or 3 (BGR)");
    }
    caffe.Caffe.Datum d;
    try {
      d = crema.engine.data.ImageDatums.read(bytes, "the uploaded image", 0,
          new crema.engine.data.ImageDatums.Options(imageShape[1], imageShape[2], c == 1, ""));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    byte[] px = d.getData().toByteArray();
    float[] row = new float[px.length];
    for (int i = 0; i < px.length; i++) {
      row[i] = px[i] & 0xff;
    }
    return row;
  }

  /** Probabilities for raw rows (as ingested), which the model contract prepares first. */
  CompletableFuture<float[][]> predict(float[][] raw) {
    entered.incrementAndGet();
    try {
      if (closed) {
        return CompletableFuture.failedFuture(new ReplacedException());
      }
      if (raw.length <= LANE_ROWS) {
        Lane lane = lane();
        if (lane != null) {
          try {
            return CompletableFuture.completedFuture(onLane(lane, raw));
          } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
          } finally {
            idle.push(lane);
          }
        }
      }
      float[][] rows;
      try {
        rows = contract.prepare(raw);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
      CompletableFuture<float[][]> f = new CompletableFuture<>();
      queue.add(new Pending(rows, f, System.nanoTime()));
      return f;
    } finally {
      entered.decrementAndGet();
    }
  }

  /** An idle lane, a new one while there are fewer than one per core, else null (the queue). */
  private Lane lane() {
    Lane lane = idle.poll();
    if (lane != null) {
      return lane;
    }
    synchronized (lanes) {
      if (lanes.size() >= maxLanes) {
        return null;
      }
      lane = new Lane(new Predictor(deploy, weights), LANE_ROWS);
      lanes.add(lane);
      return lane;
    }
  }

  /** The rows through a lane's Predictor: prepared into its input array, answered from its output array. */
  private float[][] onLane(Lane lane, float[][] raw) {
    long start = System.nanoTime();
    int size = lane.predictor.inputSize();
    for (int i = 0; i < raw.length; i++) {
      contract.prepare(raw[i], lane.in, i * size);
    }
    lane.predictor.predict(lane.in, raw.length, lane.out);
    int per = lane.predictor.outputSize();
    float[][] out = new float[raw.length][];
    for (int i = 0; i < raw.length; i++) {
      out[i] = Arrays.copyOfRange(lane.out, i * per, (i + 1) * per);
    }
    meters.batch().record(raw.length);
    meters.compute().record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    return out;
  }

  private void serve() {
    List<Pending> batch = new ArrayList<>();
    while (true) {
      Pending first;
      try {
        // No timeout: close() wakes this thread with STOP, so nothing waits on a poll interval.
        first = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (first == STOP) {
        return;
      }
      batch.clear();
      batch.add(first);
      int rows = first.rows().length;
      Pending next;
      while (rows < maxBatch && (next = queue.peek()) != null && next != STOP
          && rows + next.rows().length <= maxBatch) {
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
    }
  }

  /**
   * Stops serving: requests already inside finish (on their lane, or queued for the worker, which
   * answers every queued request before it stops); later ones get {@link ReplacedException}.
   */
  @Override
  public void close() {
    closed = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (entered.get() > 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    queue.add(STOP);
    try {
      worker.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    predictor.close();
    synchronized (lanes) {
      lanes.forEach(l -> l.predictor.close());
    }
  }
}
