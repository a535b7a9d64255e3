package crema.visualizer;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import com.fasterxml.jackson.annotation.JsonInclude;
import crema.bus.CheckpointLog;
import crema.bus.KafkaClients;
import crema.engine.Blob;
import crema.engine.data.ImageDatums;
import crema.engine.io.BinaryProto;
import crema.proto.Checkpoint;
import io.micronaut.context.annotation.Requires;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of one checkpoint as the dashboard draws them: a heatmap per 2-D weight matrix
 * (InnerProduct's num_output × inputs, the seed's matshow of ip1), a tile grid per 4-D filter bank
 * (Caffe's vis_square), and a 20-bin histogram per blob. The checkpoint is read back from Kafka
 * where the view saw it; the newest few are kept decoded.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@Singleton
public class CheckpointWeights {
  /** Cells of a heatmap, row-major; {@code averaged} when blocks of the matrix were averaged to fit. */
  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Matrix(int rows, int cols, float[] values, double min, double max, boolean averaged) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Histogram(double[] edges, long[] counts) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Param(int index, String role, int[] shape, long count, double norm, Matrix heatmap, Matrix tiles,
      Histogram histogram, boolean filters) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record LayerWeights(String name, String type, int index, List<Param> params) {}

  @Serdeable
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Weights(String run, int iteration, String sha256, List<LayerWeights> layers) {}

  static final int BINS = 20;
  /** vis_square shows at most this many filter channels. */
  static final int MAX_TILES = 256;

  private final KafkaClients clients;
  private final VisualizerConfig config;
  private final Map<String, Weights> cache;
  /** Filter pictures drawn lately: small (a few KB each), the newest kept. */
  private final Map<String, byte[]> pngs = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
      return size() > 64;
    }
  };
  private CheckpointLog reader;

  public CheckpointWeights(KafkaClients clients, VisualizerConfig config) {
    this.clients = clients;
    this.config = config;
    int keep = Math.max(1, config.getCachedCheckpoints());
    this.cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Weights> eldest) {
        return size() > keep;
      }
    };
  }

  synchronized Weights weights(String run, Run.CheckpointRef ref) {
    String key = run + "@" + ref.iteration() + "#" + ref.sha256();
    Weights w = cache.get(key);
    if (w == null) {
      Checkpoint cp = read(ref);
      w = of(run, cp, config.getMaxHeatmapCells());
      cache.put(key, w);
    }
    return w;
  }

  /** The checkpoint record itself, read back from where the view saw it. */
  synchronized Checkpoint checkpoint(Run.CheckpointRef ref) {
    return read(ref);
  }

  /** Filter bank {@code param} of the checkpoint's layer {@code layer} (index in its caffemodel) as a vis_square PNG. */
  synchronized byte[] filtersPng(String run, Run.CheckpointRef ref, int layer, int param) {
    String key = run + "@" + ref.iteration() + "#" + ref.sha256() + "/" + layer + "/" + param;
    byte[] png = pngs.get(key);
    if (png == null) {
      NetParameter net = BinaryProto.parseNet(read(ref).getCaffemodel().toByteArray(), "checkpoint of run " + run);
      if (layer < 0 || layer >= net.getLayerCount() || param < 0 || param >= net.getLayer(layer).getBlobsCount()) {
        return null;
      }
      BlobProto bp = net.getLayer(layer).getBlobs(param);
      Blob b = new Blob(Blob.shapeOf(bp));
      b.fromProto(bp, true);
      if (b.numAxes() != 4) {
        return null;
      }
      png = ImageDatums.png(VisSquare.filters(b.data(), b.shape()));
      pngs.put(key, png);
    }
    return png;
  }

  /** The checkpoint at the ref's offset, verified (and reassembled from its parts when in parts). */
  private Checkpoint read(Run.CheckpointRef ref) {
    if (reader == null) {
      reader = new CheckpointLog(clients, "crema-visualizer-weights", config.getCheckpointTopic());
    }
    try {
      return reader.checkpointAt(ref.partition(), ref.offset());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(config.getCheckpointTopic() + "-" + ref.partition() + "@" + ref.offset() + ": "
          + e.getMessage(), e);
    }
  }

  @PreDestroy
  synchronized void close() {
    if (reader != null) {
      reader.close();
    }
  }

  static Weights of(String run, Checkpoint cp, int maxCells) {
    NetParameter net = BinaryProto.parseNet(cp.getCaffemodel().toByteArray(),
        "checkpoint " + cp.getModel() + "@" + cp.getIteration());
    List<LayerWeights> layers = new ArrayList<>();
    for (int li = 0; li < net.getLayerCount(); li++) {
      LayerParameter l = net.getLayer(li);
      if (l.getBlobsCount() == 0) {
        continue;
      }
      List<Param> params = new ArrayList<>();
      for (int i = 0; i < l.getBlobsCount(); i++) {
        BlobProto bp = l.getBlobs(i);
        Blob b = new Blob(Blob.shapeOf(bp));
        b.fromProto(bp, true);
        params.add(param(l.getType(), i, b, maxCells));
      }
      layers.add(new LayerWeights(l.getName(), l.getType(), li, params));
    }
    return new Weights(run, cp.getIteration(), cp.getSha256(), layers);
  }

  private static Param param(String type, int index, Blob b, int maxCells) {
    int[] shape = b.shape();
    float[] v = b.data();
    int n = b.count();
    String role = index == 0 ? "weights" : index == 1 ? "bias" : "blob " + index;
    if (type.equals("BatchNorm")) {
      role = new String[] {"mean", "variance", "scale factor"}[Math.min(index, 2)];
    }
    Matrix heatmap = shape.length == 2 ? heatmap(v, shape[0], shape[1], maxCells) : null;
    Matrix tiles = shape.length == 4 ? tiles(v, shape) : null;
    return new Param(index, role, shape, n, Math.sqrt(b.sumsqData()), heatmap, tiles, histogram(v, n), tiles != null);
  }

  /** rows × cols as they are, or averaged in f × f blocks when that is more than maxCells. */
  static Matrix heatmap(float[] v, int rows, int cols, int maxCells) {
    int f = 1;
    while ((long) ceilDiv(rows, f) * ceilDiv(cols, f) > maxCells) {
      f++;
    }
    int r2 = ceilDiv(rows, f);
    int c2 = ceilDiv(cols, f);
    float[] out = new float[r2 * c2];
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int r = 0; r < r2; r++) {
      for (int c = 0; c < c2; c++) {
        double sum = 0;
        int k = 0;
        for (int i = r * f; i < Math.min(rows, (r + 1) * f); i++) {
          for (int j = c * f; j < Math.min(cols, (c + 1) * f); j++) {
            sum += v[i * cols + j];
            k++;
          }
        }
        float x = (float) (sum / k);
        out[r * c2 + c] = x;
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    }
    return new Matrix(r2, c2, out, min, max, f > 1);
  }

  /**
   * Caffe's vis_square: every filter channel (up to MAX_TILES) as a kh × kw tile in a near-square
   * grid, one pixel of padding between tiles, values scaled to [0, 1] over the whole bank and
   * padding at 1 (white).
   */
  static Matrix tiles(float[] v, int[] shape) {
    int kh = shape[2];
    int kw = shape[3];
    int count = Math.min(MAX_TILES, shape[0] * shape[1]);
    int side = (int) Math.ceil(Math.sqrt(count));
    int rows = side * (kh + 1) - 1;
    int cols = side * (kw + 1) - 1;
    float[] out = new float[rows * cols];
    Arrays.fill(out, 1f);
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < count * kh * kw; i++) {
      min = Math.min(min, v[i]);
      max = Math.max(max, v[i]);
    }
    double range = max > min ? max - min : 1;
    for (int t = 0; t < count; t++) {
      int r0 = (t / side) * (kh + 1);
      int c0 = (t % side) * (kw + 1);
      for (int y = 0; y < kh; y++) {
        for (int x = 0; x < kw; x++) {
          out[(r0 + y) * cols + c0 + x] = (float) ((v[(t * kh + y) * kw + x] - min) / range);
        }
      }
    }
    return new Matrix(rows, cols, out, 0, 1, false);
  }

  static Histogram histogram(float[] v, int n) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      min = Math.min(min, v[i]);
      max = Math.max(max, v[i]);
    }
    if (n == 0) {
      min = max = 0;
    }
    if (max == min) {
      // One value everywhere (a constant-filled bias): one bin around it.
      min -= 0.5;
      max += 0.5;
    }
    double[] edges = new double[BINS + 1];
    for (int i = 0; i <= BINS; i++) {
      edges[i] = min + (max - min) * i / BINS;
    }
    long[] counts = new long[BINS];
    for (int i = 0; i < n; i++) {
      int bin = (int) ((v[i] - min) / (max - min) * BINS);
      counts[Math.min(BINS - 1, Math.max(0, bin))]++;
    }
    return new Histogram(edges, counts);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
