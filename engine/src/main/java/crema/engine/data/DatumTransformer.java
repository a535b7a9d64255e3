package crema.engine.data;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.google.protobuf.ByteString;
import com.google.protobuf.Internal;
import crema.engine.Blob;
import crema.engine.DataException;
import crema.engine.Rng;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Turns a Datum into one C×H×W item of a batch, as Caffe's DataTransformer does: value = (x − mean)
 * · scale, with the mean from mean_file or mean_value; crop_size crops (at random in TRAIN, the
 * centre in TEST) and mirror flips at random in TRAIN.
 *
 * <p>It also refuses what Caffe silently accepts: {@code data} bytes whose length is not C·H·W
 * (float or int64 arrays written with tostring(), Caffe issue #4109), and records whose shape
 * differs from the first.
 */
public final class DatumTransformer {
  private final TransformationParameter p;
  private final Phase phase;
  private final float[] meanFile;
  /**
   * The crop and mirror draws' own generator (null when this transformer draws nothing): the
   * transformer runs in its layer's prefetch thread, which must not share the net's generator
   * with the compute thread.
   */
  private final Random random;
  private int[] expected;
  private Boolean firstWasBytes;

  /** A transformer whose random crops and mirrors (if any) draw from a freshly seeded generator. */
  public DatumTransformer(TransformationParameter p, Phase phase) {
    this(p, phase, new Rng());
  }

  /**
   * A transformer for {@code phase}. When it draws at all (random crop or mirror, in TRAIN), it
   * draws from its own generator, seeded now by one draw from {@code seeds} (its net's
   * generator), as Caffe's DataTransformer::InitRand seeds from caffe_rng_rand(): the draws then
   * happen in the prefetch thread without touching the net's generator, and a solver's seed still
   * reproduces them. A transformer that draws nothing takes no seed, leaving the net's stream as
   * it was.
   */
  public DatumTransformer(TransformationParameter p, Phase phase, Rng seeds) {
    this(p, phase, seeds, p.hasMeanFile() ? readMean(p.getMeanFile()) : null);
  }

  private DatumTransformer(TransformationParameter p, Phase phase, Rng seeds, float[] meanFile) {
    this.p = p;
    this.phase = phase;
    if (meanFile != null && p.getMeanValueCount() > 0) {
      throw new DataException("transform_param: cannot specify mean_file and mean_value at the same time");
    }
    this.meanFile = meanFile;
    boolean needsRandom = phase == Phase.TRAIN && (p.getMirror() || p.getCropSize() > 0);
    this.random = needsRandom ? new Random(seeds.nextLong()) : null;
  }

  /**
   * A TEST-phase transformer whose per-value mean is given (a model contract carries the
   * mean_file's values, not its path); {@code mean} may be null, and {@code p}'s own mean_file is
   * then ignored. It draws nothing.
   */
  public static DatumTransformer forTest(TransformationParameter p, float[] mean) {
    return new DatumTransformer(p, Phase.TEST, new Rng(0), mean);
  }

  private static float[] readMean(String file) {
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      BlobProto proto = BlobProto.parseFrom(in);
      Blob b = new Blob();
      b.fromProto(proto, true);
      return Arrays.copyOf(b.data(), b.count());
    } catch (IOException e) {
      throw new DataException("cannot read mean_file '" + file + "': " + e.getMessage(), e);
    }
  }

  /**
   * The Datum as pixels: an {@code encoded} (PNG/JPEG) record decoded as Caffe's DataTransformer
   * decodes it (its own colours, or as {@code force_color}/{@code force_gray} say); any other
   * record as it is.
   *
   * @throws DataException when the bytes are no image
   */
  public Datum decoded(Datum d) {
    if (!d.getEncoded()) {
      return d;
    }
    try {
      return ImageDatums.decode(d, p.getForceColor(), p.getForceGray());
    } catch (IllegalArgumentException e) {
      throw new DataException("encoded Datum: " + e.getMessage(), e);
    }
  }

  /** The item shape this transformer produces from a Datum: (C, crop or H, crop or W). */
  public int[] itemShape(Datum d) {
    int crop = p.getCropSize();
    if (crop > 0 && (crop > d.getHeight() || crop > d.getWidth())) {
      throw new DataException("crop_size " + crop + " is larger than the datum (" + d.getHeight()
          + "x" + d.getWidth() + ")");
    }
    return new int[] {d.getChannels(), crop > 0 ? crop : d.getHeight(), crop > 0 ? crop : d.getWidth()};
  }

  /** Validates {@code d} against the first record seen; {@code whereSupplier} names it in messages. */
  public void check(Datum d, Supplier<String> whereSupplier) {
    check(d.getChannels(), d.getHeight(), d.getWidth(), d.getEncoded(), d.getData().size(),
        d.getFloatDataCount(), whereSupplier);
  }

  /** {@link #check(Datum, Supplier)} for a record decoded without protobuf. */
  void check(RawDatum d, Supplier<String> whereSupplier) {
    check(d.channels, d.height, d.width, d.encoded, d.dataLength, d.floatCount, whereSupplier);
  }

  private void check(int c, int h, int w, boolean encoded, int dataSize, int floatCount,
      Supplier<String> whereSupplier) {
    // In long, and every axis at least 1: a record claiming 65536×65536×1 must not wrap to 0
    // values, nor one claiming 2^30×0×0 pass as empty and then be walked axis by axis (both
    // found by fuzzing).
    long size = (long) c * h * w;
    if (c < 1 || h < 1 || w < 1 || size > Integer.MAX_VALUE) {
      throw new DataException(whereSupplier.get() + ": Datum shape " + c + "×" + h + "×" + w
          + " is not a shape (every axis must be at least 1, and there must be under 2^31 values)");
    }
    int dim = (int) size;
    if (encoded) {
      throw new DataException(whereSupplier.get() + ": encoded (JPEG/PNG) Datum records are not supported; store"
          + " decoded C×H×W values");
    }
    boolean bytes = dataSize > 0;
    if (bytes && dataSize != dim) {
      String hint = dataSize == 4 * dim ? " (4 bytes per value: float32 features)"
          : dataSize == 8 * dim ? " (8 bytes per value: float64 or int64 features)" : "";
      throw new DataException(whereSupplier.get() + ": Datum `data` holds " + dataSize + " bytes but "
          + "channels×height×width = " + dim + hint + ". Caffe reads `data` as one uint8 pixel per "
          + "byte, so features written with tostring() become garbage. Write float features to "
          + "`float_data` and leave `data` empty (pycaffe's array_to_datum does this).");
    }
    if (!bytes && floatCount != dim) {
      throw new DataException(whereSupplier.get() + ": Datum has " + floatCount + " float_data values"
          + " but channels×height×width = " + c + "×" + h + "×" + w + " = " + dim);
    }
    if (bytes && floatCount > 0) {
      throw new DataException(whereSupplier.get() + ": Datum sets both `data` (" + dataSize
          + " bytes) and `float_data` (" + floatCount + " values); Caffe would silently"
          + " read only the uint8 bytes. Keep one.");
    }
    int[] shape = {c, h, w};
    if (expected == null) {
      expected = shape;
      firstWasBytes = bytes;
    } else {
      if (!Arrays.equals(expected, shape)) {
        throw new DataException(whereSupplier.get() + ": Datum is " + c + "×" + h + "×" + w
            + " but the first record was " + expected[0] + "×" + expected[1] + "×" + expected[2]
            + "; every record of a batch must have the same size");
      }
      if (firstWasBytes != bytes) {
        throw new DataException(whereSupplier.get() + ": Datum stores its values in `" + (bytes ? "data" : "float_data")
            + "` but the first record used `" + (firstWasBytes ? "data" : "float_data")
            + "`. Mixing uint8 `data` with `float_data` in one source is almost always the uint8 "
            + "pitfall (Caffe issue #4109): write float features to `float_data` only.");
      }
    }
    if (meanFile != null && meanFile.length != dim) {
      throw new DataException(whereSupplier.get() + ": mean_file has " + meanFile.length + " values, the Datum "
          + dim);
    }
    if (p.getMeanValueCount() > 1 && p.getMeanValueCount() != c) {
      throw new DataException("transform_param: Specify either 1 mean_value or as many as channels: "
          + c + " (got " + p.getMeanValueCount() + ")");
    }
  }

  /** Writes the transformed item into {@code out} from {@code offset}. */
  public void transform(Datum d, float[] out, int offset) {
    int c = d.getChannels();
    int h = d.getHeight();
    int w = d.getWidth();
    int crop = p.getCropSize();
    int oh = crop > 0 ? crop : h;
    int ow = crop > 0 ? crop : w;
    int[] drawn = new int[3];
    draw(h, w, drawn, 0);
    int hOff = drawn[0];
    int wOff = drawn[1];
    boolean mirror = drawn[2] == 1;
    boolean bytes = !d.getData().isEmpty();
    if (crop == 0 && !mirror && !bytes && meanFile == null) {
      // The common case for feature vectors: float_data in order, one mean per channel.
      Internal.FloatList values = (Internal.FloatList) d.getFloatDataList();
      float scale = p.getScale();
      int plane = h * w;
      int means = p.getMeanValueCount();
      for (int ch = 0; ch < c; ch++) {
        float mean = means == 0 ? 0f : p.getMeanValue(means == 1 ? 0 : ch);
        int base = ch * plane;
        for (int i = base; i < base + plane; i++) {
          out[offset + i] = (values.getFloat(i) - mean) * scale;
        }
      }
      return;
    }
    ByteString data = d.getData();
    float scale = p.getScale();
    for (int ch = 0; ch < c; ch++) {
      float meanValue = p.getMeanValueCount() == 0 ? 0f
          : p.getMeanValue(p.getMeanValueCount() == 1 ? 0 : ch);
      for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
          int src = (ch * h + hOff + y) * w + wOff + x;
          int dst = (ch * oh + y) * ow + (mirror ? ow - 1 - x : x);
          float v = bytes ? (data.byteAt(src) & 0xff) : d.getFloatData(src);
          float mean = meanFile != null ? meanFile[src] : meanValue;
          out[offset + dst] = (v - mean) * scale;
        }
      }
    }
  }

  /**
   * Whether the transform of float_data is a per-channel affine map, as cheap as a copy: no crop,
   * no mirror, no mean_file.
   */
  boolean plain() {
    return p.getCropSize() == 0 && !p.getMirror() && meanFile == null;
  }

  /**
   * Whether the transform of float_data is the identity (plain, scale 1, no mean): (v − 0)·1 is v
   * for every float, so records may be copied as they are.
   */
  boolean identity() {
    return plain() && p.getScale() == 1f && p.getMeanValueCount() == 0;
  }

  /**
   * The random draws {@link #transform(Datum, float[], int)} makes for one record of an H×W item,
   * made now, in record order, into {@code draws[3·at…3·at+2]} (crop row offset, crop column
   * offset, mirror 0/1): a reader then transforms records on other threads, in any order, with the
   * draws a sequential read would have made.
   */
  void draw(int h, int w, int[] draws, int at) {
    int crop = p.getCropSize();
    int hOff = 0;
    int wOff = 0;
    if (crop > 0) {
      if (phase == Phase.TRAIN) {
        hOff = random.nextInt(h - crop + 1);
        wOff = random.nextInt(w - crop + 1);
      } else {
        hOff = (h - crop) / 2;
        wOff = (w - crop) / 2;
      }
    }
    boolean mirror = p.getMirror() && phase == Phase.TRAIN && random.nextBoolean();
    draws[3 * at] = hOff;
    draws[3 * at + 1] = wOff;
    draws[3 * at + 2] = mirror ? 1 : 0;
  }

  /**
   * {@link #transform(Datum, float[], int)} for a C×H×W record held in {@code floats} or (uint8)
   * {@code bytes} from {@code from}, with the draws {@link #draw} made for it.
   */
  void transform(float[] floats, byte[] bytes, int from, int c, int h, int w, int[] draws, int at,
      float[] out, int offset) {
    int crop = p.getCropSize();
    int oh = crop > 0 ? crop : h;
    int ow = crop > 0 ? crop : w;
    int hOff = draws[3 * at];
    int wOff = draws[3 * at + 1];
    boolean mirror = draws[3 * at + 2] != 0;
    float scale = p.getScale();
    int means = p.getMeanValueCount();
    if (crop == 0 && !mirror && bytes == null && meanFile == null) {
      // The common case for feature vectors: float_data in order, one mean per channel.
      int plane = h * w;
      for (int ch = 0; ch < c; ch++) {
        float mean = means == 0 ? 0f : p.getMeanValue(means == 1 ? 0 : ch);
        int base = ch * plane;
        for (int i = base; i < base + plane; i++) {
          out[offset + i] = (floats[from + i] - mean) * scale;
        }
      }
      return;
    }
    for (int ch = 0; ch < c; ch++) {
      float meanValue = means == 0 ? 0f : p.getMeanValue(means == 1 ? 0 : ch);
      for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
          int src = (ch * h + hOff + y) * w + wOff + x;
          int dst = (ch * oh + y) * ow + (mirror ? ow - 1 - x : x);
          float v = bytes != null ? (bytes[from + src] & 0xff) : floats[from + src];
          float mean = meanFile != null ? meanFile[src] : meanValue;
          out[offset + dst] = (v - mean) * scale;
        }
      }
    }
  }
}
