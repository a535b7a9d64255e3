package crema.engine.contract;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.data.DatumTransformer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The model contract of a trained net, applied: how a raw row, as ingest took it (features by
 * name, an id column, a label column, ln(1 + x)), becomes the deploy net's input, exactly as the
 * TEST net's Data layer turned the stored Datum into its batch ({@code transform_param}: mean,
 * scale, centre crop). The inference service and {@code crema predict} both go through it, so the
 * served model sees what the trained one saw.
 *
 * <p>Immutable and thread-safe: {@link #prepare} builds a fresh transformer state per call only
 * where Caffe's transform would keep some (none in the TEST phase).
 */
public final class ModelContract {
  private final crema.proto.ModelContract proto;
  private final int[] shape;
  private final DatumTransformer transformer;
  private final boolean identity;

  private ModelContract(crema.proto.ModelContract proto, int[] shape) {
    this.proto = proto;
    this.shape = shape;
    TransformationParameter t = proto.hasTransform() ? proto.getTransform() : TransformationParameter.getDefaultInstance();
    float[] mean = proto.getMeanCount() == 0 ? null : toArray(proto.getMeanList());
    this.transformer = DatumTransformer.forTest(t, mean);
    this.identity = mean == null && t.getMeanValueCount() == 0 && t.getScale() == 1f && t.getCropSize() == 0;
    if (mean != null && mean.length != rawSize()) {
      throw new IllegalArgumentException("the model contract's mean holds " + mean.length + " values; its input"
          + " shape " + Arrays.toString(shape) + " has " + rawSize());
    }
  }

  /**
   * The contract a checkpoint carries. {@code inputSize} is the deploy net's input size, used when
   * the contract does not give the raw shape (a checkpoint from before contracts): then a raw row
   * is the net's input as it is.
   */
  public static ModelContract of(crema.proto.ModelContract proto, int inputSize) {
    int[] shape;
    if (proto.getInputShapeCount() == 3) {
      shape = new int[] {proto.getInputShape(0), proto.getInputShape(1), proto.getInputShape(2)};
    } else if (proto.getFeatureNamesCount() > 0) {
      shape = new int[] {proto.getFeatureNamesCount(), 1, 1};
    } else {
      shape = new int[] {inputSize, 1, 1};
    }
    return new ModelContract(proto, shape);
  }

  /**
   * The part of a contract that the net itself says: the {@code transform_param} of its TEST-phase
   * Data layer (of its first Data layer when none is TEST-only), with a {@code mean_file} read and
   * carried as values, so that the contract names no file. The caller adds what ingest knew.
   */
  public static crema.proto.ModelContract.Builder fromNet(NetParameter net) {
    crema.proto.ModelContract.Builder b = crema.proto.ModelContract.newBuilder();
    LayerParameter data = testDataLayer(net);
    if (data != null && data.hasTransformParam()) {
      TransformationParameter t = data.getTransformParam();
      if (t.hasMeanFile()) {
        for (float v : readMean(t.getMeanFile())) {
          b.addMean(v);
        }
        t = t.toBuilder().clearMeanFile().build();
      }
      b.setTransform(t.toBuilder().clearMirror().build());
    }
    return b;
  }

  /** The Data layer whose batches the TEST net saw; null when the net has none. */
  public static LayerParameter testDataLayer(NetParameter net) {
    LayerParameter first = null;
    for (LayerParameter l : net.getLayerList()) {
      if (!l.getType().equals("Data")) {
        continue;
      }
      boolean test = l.getIncludeList().stream().anyMatch(r -> r.hasPhase() && r.getPhase() == Phase.TEST);
      boolean trainOnly = l.getIncludeCount() > 0
          && l.getIncludeList().stream().allMatch(r -> r.hasPhase() && r.getPhase() == Phase.TRAIN);
      if (test || (l.getIncludeCount() == 0 && !trainOnly)) {
        return l;
      }
      if (first == null) {
        first = l;
      }
    }
    return first;
  }

  private static float[] readMean(String file) {
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      Blob b = new Blob();
      b.fromProto(BlobProto.parseFrom(in), true);
      return Arrays.copyOf(b.data(), b.count());
    } catch (IOException e) {
      throw new DataException("cannot read mean_file '" + file + "': " + e.getMessage(), e);
    }
  }

  private static float[] toArray(List<Float> values) {
    float[] a = new float[values.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = values.get(i);
    }
    return a;
  }

  public crema.proto.ModelContract proto() {
    return proto;
  }

  /** Values of one raw row: C·H·W of the stored Datum. */
  public int rawSize() {
    return shape[0] * shape[1] * shape[2];
  }

  /** The features by name in Datum order; empty when the dataset did not name them. */
  public List<String> featureNames() {
    return proto.getFeatureNamesList();
  }

  public boolean log1p() {
    return proto.getLog1P();
  }

  /** The id column ingest took, or null. */
  public String idColumn() {
    return proto.getIdColumn().isEmpty() ? null : proto.getIdColumn();
  }

  /** The label column ingest took, or null. */
  public String labelColumn() {
    return proto.getLabelColumn().isEmpty() ? null : proto.getLabelColumn();
  }

  /** The names of the net's {@code classes} outputs: the contract's, or "0", "1", … without them. */
  public List<String> labelNames(int classes) {
    if (proto.getLabelNamesCount() == classes) {
      return proto.getLabelNamesList();
    }
    List<String> names = new ArrayList<>(classes);
    for (int i = 0; i < classes; i++) {
      names.add(Integer.toString(i));
    }
    return names;
  }

  /**
   * The label index of a label column's value: its position among the label names, or the
   * integer itself when there are no names. −1 when unknown.
   */
  public int labelIndex(String value, int classes) {
    List<String> names = labelNames(classes);
    int i = names.indexOf(value);
    if (i < 0 && proto.getLabelNamesCount() != classes && value.matches("\\d{1,9}")) {
      i = Integer.parseInt(value);
    }
    return i >= 0 && i < classes ? i : -1;
  }

  /** The net input's size for one row: C × (crop or H) × (crop or W). */
  public int inputSize() {
    int crop = proto.hasTransform() ? proto.getTransform().getCropSize() : 0;
    return crop > 0 ? shape[0] * crop * crop : rawSize();
  }

  /**
   * Turns one raw row (C·H·W values, after ln(1 + x) when the contract says so) into the net's
   * input at {@code out[offset..]}, as the TEST Data layer's transform does.
   */
  public void prepare(float[] raw, float[] out, int offset) {
    if (raw.length != rawSize()) {
      throw new IllegalArgumentException("a row has " + raw.length + " values; the model takes " + rawSize());
    }
    if (identity) {
      System.arraycopy(raw, 0, out, offset, raw.length);
      return;
    }
    Datum.Builder d = Datum.newBuilder().setChannels(shape[0]).setHeight(shape[1]).setWidth(shape[2]);
    for (float v : raw) {
      d.addFloatData(v);
    }
    transformer.transform(d.build(), out, offset);
  }

  /** {@link #prepare(float[], float[], int)} for a batch. */
  public float[][] prepare(float[][] raw) {
    float[][] out = new float[raw.length][inputSize()];
    for (int i = 0; i < raw.length; i++) {
      prepare(raw[i], out[i], 0);
    }
    return out;
  }
}
