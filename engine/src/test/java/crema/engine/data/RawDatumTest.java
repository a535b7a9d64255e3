package crema.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.Datum;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import crema.engine.Rng;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The raw Datum decoder against protobuf's own parse: every record protobuf reads, the decoder
 * reads the same, or leaves to protobuf (groups, malformed bytes); and the transform from decoded
 * arrays equals the transform from the Datum.
 */
class RawDatumTest {
  private final Random random = new Random(7);

  /** Asserts the decoder agrees with protobuf on {@code bytes}; whether the decoder read it. */
  private static boolean agrees(byte[] bytes, int offset) {
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + offset + 3);
    direct.position(offset);
    direct.put(bytes);
    direct.position(offset).limit(offset + bytes.length);
    RawDatum raw = new RawDatum();
    boolean read = raw.decode(direct);
    assertEquals(offset, direct.position(), "the buffer's position is left as it was");
    Datum d;
    try {
      d = Datum.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      assertFalse(read, "protobuf refuses what the decoder read: " + e.getMessage());
      return false;
    }
    if (!read) {
      raw.set(d);
    }
    assertEquals(d.getChannels(), raw.channels);
    assertEquals(d.getHeight(), raw.height);
    assertEquals(d.getWidth(), raw.width);
    assertEquals(d.getLabel(), raw.label);
    assertEquals(d.getEncoded(), raw.encoded);
    assertArrayEquals(d.getData().toByteArray(), Arrays.copyOf(raw.data, raw.dataLength));
    float[] expected = new float[d.getFloatDataCount()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = d.getFloatData(i);
    }
    // Bit for bit, NaN payloads included.
    assertArrayEquals(toBits(expected), toBits(Arrays.copyOf(raw.floats, raw.floatCount)));
    // A heap buffer reads the same.
    RawDatum heap = new RawDatum();
    assertEquals(read, heap.decode(ByteBuffer.wrap(bytes)));
    return read;
  }

  private static int[] toBits(float[] v) {
    int[] b = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = Float.floatToRawIntBits(v[i]);
    }
    return b;
  }

  private Datum randomDatum() {
    Datum.Builder b = Datum.newBuilder();
    if (random.nextInt(10) > 0) {
      b.setChannels(random.nextInt(10) == 0 ? -random.nextInt(5) - 1 : random.nextInt(4) + 1);
    }
    if (random.nextInt(10) > 0) {
      b.setHeight(random.nextInt(5) + 1);
    }
    if (random.nextInt(10) > 0) {
      b.setWidth(random.nextInt(300) + 1);
    }
    if (random.nextBoolean()) {
      b.setLabel(random.nextInt(20) - 5);
    }
    switch (random.nextInt(4)) {
      case 0 -> {
        byte[] data = new byte[random.nextInt(400)];
        random.nextBytes(data);
        b.setData(ByteString.copyFrom(data));
      }
      case 1, 2 -> {
        for (int i = random.nextInt(400); i > 0; i--) {
          b.addFloatData(random.nextInt(8) == 0 ? Float.intBitsToFloat(random.nextInt()) : random.nextFloat() * 10);
        }
      }
      default -> {
        // Both, or neither.
        if (random.nextBoolean()) {
          b.setData(ByteString.copyFrom(new byte[] {1, 2, 3}));
          b.addFloatData(1.5f);
        }
      }
    }
    if (random.nextInt(8) == 0) {
      b.setEncoded(random.nextBoolean());
    }
    return b.build();
  }

  @Test
  void readsWhatProtobufWritesWithUnpackedFloats() {
    for (int i = 0; i < 2000; i++) {
      assertTrue(agrees(randomDatum().toByteArray(), i % 5), "record " + i);
    }
  }

  /**
   * The same fields written by hand: float_data in packed runs mixed with single values, fields
   * repeated (the last wins), in any order, with unknown fields of every wire type and known field
   * numbers under another wire type (unknown to protobuf too).
   */
  @Test
  void readsPackedFloatsRepeatedFieldsAndUnknownFields() throws IOException {
    for (int n = 0; n < 2000; n++) {
      Datum d = randomDatum();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      if (random.nextBoolean()) {
        out.writeInt32(1, random.nextInt(100));
        out.writeInt32(5, -random.nextInt(100));
        out.writeBytes(4, ByteString.copyFrom(new byte[random.nextInt(5)]));
      }
      unknown(out);
      out.writeInt32(1, d.getChannels());
      unknown(out);
      out.writeInt32(2, d.getHeight());
      out.writeInt32(3, d.getWidth());
      if (!d.getData().isEmpty() || random.nextBoolean()) {
        out.writeBytes(4, d.getData());
      }
      int i = 0;
      while (i < d.getFloatDataCount()) {
        int run = Math.min(d.getFloatDataCount() - i, random.nextInt(50));
        if (random.nextBoolean()) {
          out.writeTag(6, WireFormat.WIRETYPE_LENGTH_DELIMITED);
          out.writeUInt32NoTag(4 * run);
          for (int k = 0; k < run; k++) {
            out.writeFloatNoTag(d.getFloatData(i + k));
          }
        } else {
          for (int k = 0; k < run; k++) {
            out.writeFloat(6, d.getFloatData(i + k));
          }
        }
        i += run;
        unknown(out);
      }
      out.writeInt32(5, d.getLabel());
      out.writeBool(7, d.getEncoded());
      unknown(out);
      out.flush();
      assertTrue(agrees(bytes.toByteArray(), n % 3), "record " + n);
    }
  }

  private void unknown(CodedOutputStream out) throws IOException {
    switch (random.nextInt(8)) {
      case 0 -> out.writeUInt64(8 + random.nextInt(100), random.nextLong());
      case 1 -> out.writeFixed64(9 + random.nextInt(100), random.nextLong());
      case 2 -> out.writeBytes(10 + random.nextInt(1000), ByteString.copyFrom(new byte[random.nextInt(20)]));
      case 3 -> out.writeFixed32(11 + random.nextInt(100), random.nextInt());
      // Known numbers, other wire types: channels as fixed32, label as bytes, float_data as varint.
      case 4 -> out.writeFixed32(1, random.nextInt());
      case 5 -> out.writeBytes(5, ByteString.copyFrom(new byte[] {9}));
      case 6 -> out.writeUInt64(6, random.nextInt(1000));
      default -> { }
    }
  }

  @Test
  void groupsTruncationsAndGarbageAreLeftToProtobuf() throws IOException {
    // A group: protobuf skips it; the decoder leaves it to protobuf.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt32(1, 3);
    out.writeTag(20, WireFormat.WIRETYPE_START_GROUP);
    out.writeInt32(1, 5);
    out.writeTag(20, WireFormat.WIRETYPE_END_GROUP);
    out.writeFloat(6, 2.5f);
    out.flush();
    assertFalse(agrees(bytes.toByteArray(), 0));
    // Every prefix of real records, and random bytes: the same answer as protobuf's, or protobuf's.
    for (int n = 0; n < 300; n++) {
      byte[] whole = randomDatum().toByteArray();
      byte[] cut = Arrays.copyOf(whole, random.nextInt(whole.length + 1));
      agrees(cut, 0);
      byte[] garbage = new byte[random.nextInt(40)];
      random.nextBytes(garbage);
      agrees(garbage, 1);
    }
    // A packed run whose length is not a multiple of 4 is malformed: protobuf refuses it.
    byte[] odd = {(6 << 3) | 2, 3, 0, 0, 0};
    assertFalse(new RawDatum().decode(ByteBuffer.wrap(odd)));
    assertThrows(InvalidProtocolBufferException.class, () -> Datum.parseFrom(odd));
  }

  /** The transform from decoded arrays, with draws made first, equals the transform of the Datum. */
  @Test
  void transformFromDecodedArraysEqualsTransformOfTheDatum() {
    for (int n = 0; n < 300; n++) {
      int c = random.nextInt(3) + 1;
      int h = random.nextInt(6) + 1;
      int w = random.nextInt(6) + 1;
      boolean bytes = random.nextBoolean();
      Datum.Builder b = Datum.newBuilder().setChannels(c).setHeight(h).setWidth(w).setLabel(n);
      byte[] data = new byte[c * h * w];
      random.nextBytes(data);
      if (bytes) {
        b.setData(ByteString.copyFrom(data));
      } else {
        for (int i = 0; i < c * h * w; i++) {
          b.addFloatData(random.nextFloat() * 4 - 1);
        }
      }
      Datum d = b.build();
      TransformationParameter.Builder p = TransformationParameter.newBuilder();
      if (random.nextBoolean()) {
        p.setScale(random.nextFloat());
      }
      int means = random.nextInt(3);
      for (int i = 0; i < (means == 2 ? c : means); i++) {
        p.addMeanValue(random.nextFloat());
      }
      if (random.nextBoolean()) {
        p.setCropSize(random.nextInt(Math.min(h, w)) + 1);
      }
      p.setMirror(random.nextBoolean());
      Phase phase = random.nextBoolean() ? Phase.TRAIN : Phase.TEST;
      float[] mean = null;
      if (means == 0 && random.nextInt(3) == 0) {
        mean = new float[c * h * w];
        for (int i = 0; i < mean.length; i++) {
          mean[i] = random.nextFloat();
        }
      }
      long seed = random.nextLong();
      DatumTransformer viaDatum = transformer(p.build(), phase, seed, mean);
      DatumTransformer viaRaw = transformer(p.build(), phase, seed, mean);
      int[] shape = viaDatum.itemShape(d);
      int item = shape[0] * shape[1] * shape[2];
      RawDatum raw = new RawDatum();
      assertTrue(raw.decode(ByteBuffer.wrap(d.toByteArray())));
      viaRaw.check(raw, () -> "record");
      viaDatum.check(d, () -> "record");
      float[] expected = new float[3 * item];
      float[] actual = new float[3 * item];
      int[] draws = new int[9];
      for (int k = 0; k < 3; k++) {
        viaDatum.transform(d, expected, k * item);
        viaRaw.draw(h, w, draws, k);
      }
      for (int k = 2; k >= 0; k--) {
        viaRaw.transform(bytes ? null : raw.floats, bytes ? raw.data : null, 0, c, h, w, draws, k, actual, k * item);
      }
      assertArrayEquals(expected, actual, "case " + n + ": " + p.build() + " " + phase);
    }
  }

  private static DatumTransformer transformer(TransformationParameter p, Phase phase, long seed, float[] mean) {
    if (mean != null) {
      // forTest: TEST phase with a given per-value mean (a model contract's).
      return DatumTransformer.forTest(p, mean);
    }
    return new DatumTransformer(p, phase, new Rng(seed));
  }
}
