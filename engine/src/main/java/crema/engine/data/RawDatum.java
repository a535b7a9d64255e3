package crema.engine.data;

import caffe.Caffe.Datum;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One Datum read straight from its serialised bytes, without building protobuf objects: the shape,
 * the label, the {@code encoded} flag and the values ({@code data} bytes or {@code float_data},
 * packed or not) land in arrays this object reuses from record to record.
 *
 * <p>It reads what protobuf would: the last {@code channels}, {@code height}, {@code width},
 * {@code label}, {@code data} and {@code encoded} win, every {@code float_data} value counts (packed
 * runs and single values, in order), a known field with another wire type is an unknown field and
 * is skipped like any other. Anything else — groups, a truncated or malformed record — makes
 * {@link #decode} answer false, and the caller parses the record with protobuf instead
 * ({@link #set}), which either reads it the same way or says what is wrong with it.
 */
final class RawDatum {
  /** Thrown inside {@link #decode} only, to leave for protobuf's parser; no stack trace. */
  private static final RuntimeException NEEDS_PROTOBUF = new RuntimeException(null, null, false, false) {};

  private static final int CHANNELS = 1 << 3;
  private static final int HEIGHT = 2 << 3;
  private static final int WIDTH = 3 << 3;
  private static final int DATA = 4 << 3 | 2;
  private static final int LABEL = 5 << 3;
  private static final int FLOATS_PACKED = 6 << 3 | 2;
  private static final int FLOAT = 6 << 3 | 5;
  private static final int ENCODED = 7 << 3;

  int channels;
  int height;
  int width;
  int label;
  boolean encoded;
  /** The {@code data} bytes: the first {@link #dataLength} of this array. */
  byte[] data = new byte[0];
  int dataLength;
  /** The {@code float_data} values: the first {@link #floatCount} of this array. */
  float[] floats = new float[0];
  int floatCount;

  private int pos;

  /** Whether the values are {@code data} bytes (as {@link DatumTransformer} decides: non-empty). */
  boolean bytes() {
    return dataLength > 0;
  }

  /**
   * Reads the Datum from {@code record}'s position to its limit (neither is changed); false when
   * protobuf's parser must read it (see the class comment).
   */
  boolean decode(ByteBuffer record) {
    channels = 0;
    height = 0;
    width = 0;
    label = 0;
    encoded = false;
    dataLength = 0;
    floatCount = 0;
    ByteBuffer b = record.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    pos = b.position();
    int end = b.limit();
    try {
      while (pos < end) {
        long tag = varint(b, end);
        if (tag > 0xffff_ffffL || tag >>> 3 == 0) {
          return false;
        }
        switch ((int) tag) {
          case CHANNELS -> channels = (int) varint(b, end);
          case HEIGHT -> height = (int) varint(b, end);
          case WIDTH -> width = (int) varint(b, end);
          case LABEL -> label = (int) varint(b, end);
          case ENCODED -> encoded = varint(b, end) != 0;
          case DATA -> {
            int len = length(b, end);
            if (data.length < len) {
              data = new byte[Math.max(len, data.length * 2)];
            }
            b.get(pos, data, 0, len);
            dataLength = len;
            pos += len;
          }
          case FLOATS_PACKED -> {
            int len = length(b, end);
            if ((len & 3) != 0) {
              return false;
            }
            int n = len >> 2;
            ensureFloats(floatCount + n);
            b.slice(pos, len).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(floats, floatCount, n);
            floatCount += n;
            pos += len;
          }
          case FLOAT -> {
            need(end, 4);
            ensureFloats(floatCount + 1);
            floats[floatCount++] = b.getFloat(pos);
            pos += 4;
          }
          default -> skip(b, end, (int) tag & 7);
        }
      }
      return true;
    } catch (RuntimeException e) {
      if (e == NEEDS_PROTOBUF) {
        return false;
      }
      throw e;
    }
  }

  /** Takes the fields of a Datum protobuf parsed (the records {@link #decode} leaves to it). */
  void set(Datum d) {
    channels = d.getChannels();
    height = d.getHeight();
    width = d.getWidth();
    label = d.getLabel();
    encoded = d.getEncoded();
    dataLength = d.getData().size();
    if (data.length < dataLength) {
      data = new byte[dataLength];
    }
    d.getData().copyTo(data, 0);
    floatCount = d.getFloatDataCount();
    ensureFloats(floatCount);
    for (int i = 0; i < floatCount; i++) {
      floats[i] = d.getFloatData(i);
    }
  }

  private void ensureFloats(int n) {
    if (floats.length < n) {
      floats = Arrays.copyOf(floats, Math.max(n, floats.length * 2));
    }
  }

  private void need(int end, int n) {
    if (end - pos < n) {
      throw NEEDS_PROTOBUF;
    }
  }

  /** A base-128 varint of at most 10 bytes, as protobuf reads one. */
  private long varint(ByteBuffer b, int end) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(end, 1);
      byte x = b.get(pos++);
      result |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return result;
      }
    }
    throw NEEDS_PROTOBUF;
  }

  /** A length prefix: non-negative as a 32-bit value and within the record. */
  private int length(ByteBuffer b, int end) {
    int len = (int) varint(b, end);
    if (len < 0) {
      throw NEEDS_PROTOBUF;
    }
    need(end, len);
    return len;
  }

  private void skip(ByteBuffer b, int end, int wireType) {
    switch (wireType) {
      case 0 -> varint(b, end);
      case 1 -> {
        need(end, 8);
        pos += 8;
      }
      case 2 -> {
        int len = length(b, end); // first: it moves pos past the length prefix
        pos += len;
      }
      case 5 -> {
        need(end, 4);
        pos += 4;
      }
      // Groups (3, 4) and the invalid wire types 6 and 7.
      default -> throw NEEDS_PROTOBUF;
    }
  }
}
