package crema.proto;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Checkpoints of any size on records of Kafka's default size. A checkpoint whose serialized size
 * is at most the part size travels as one record, as it always did. A larger one is serialized
 * and cut into part records of that many bytes, and a manifest record follows them: the checkpoint
 * without its caffemodel and solverstate, naming each part by partition, offset, size and sha256,
 * with the size and sha256 of the whole. Written under one key by one producer, the parts and
 * their manifest share a partition and keep their order, so a reader that follows the topic meets
 * the manifest after all its parts, and a reader that starts at the manifest finds the parts by
 * their offsets. Parts that no manifest names (a writer killed mid-publication) are never read as
 * a checkpoint.
 *
 * <p>Pure Java on protobuf only, so the services (through {@code crema-bus}) and the client
 * library (which depends on nothing but kafka-clients and these classes) share one codec.
 * {@link CheckpointAssembler} is its reading side for a reader that follows the topic.
 */
public final class CheckpointParts {
  /** 512 KiB: a part record stays well under Kafka's default 1 MiB record limit. */
  public static final int DEFAULT_PART_BYTES = 512 * 1024;

  private CheckpointParts() {}

  /** What a record on the checkpoint topic is. */
  public enum Kind {
    /** A whole checkpoint in one record. */
    WHOLE,
    /** One chunk of a checkpoint in parts: not a checkpoint by itself. */
    PART,
    /** The record that completes a checkpoint in parts. */
    MANIFEST
  }

  /** The kind of a record parsed from the checkpoint topic. */
  public static Kind kind(Checkpoint record) {
    return record.hasPart() ? Kind.PART : record.hasManifest() ? Kind.MANIFEST : Kind.WHOLE;
  }

  /**
   * Parses a record's value from the checkpoint topic.
   *
   * @throws IllegalArgumentException naming {@code where} when the bytes are not a Checkpoint
   */
  public static Checkpoint parse(byte[] value, String where) {
    try {
      return Checkpoint.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(where + " is not a Checkpoint record: " + e.getMessage(), e);
    }
  }

  /** Hex sha256 of {@code caffemodel} then {@code solverstate}: what {@link Checkpoint#getSha256()} holds. */
  public static String sha256(ByteString caffemodel, ByteString solverstate) {
    MessageDigest d = digest();
    update(d, caffemodel);
    update(d, solverstate);
    return HexFormat.of().formatHex(d.digest());
  }

  /**
   * A whole checkpoint whose sha256 is that of its caffemodel and solverstate bytes, returned as
   * is; a part or a manifest is not one.
   *
   * @throws IllegalArgumentException naming the model, iteration and both checksums when it does not verify
   */
  public static Checkpoint verify(Checkpoint whole) {
    if (kind(whole) != Kind.WHOLE) {
      throw new IllegalArgumentException("a checkpoint " + kind(whole).name().toLowerCase()
          + " record is not a whole checkpoint (" + describe(whole) + ")");
    }
    String actual = sha256(whole.getCaffemodel(), whole.getSolverstate());
    if (!actual.equals(whole.getSha256())) {
      throw new IllegalArgumentException("checksum mismatch: checkpoint of " + whole.getModel() + " at iteration "
          + whole.getIteration() + " says sha256 " + whole.getSha256() + ", its bytes have " + actual);
    }
    return whole;
  }

  /** Whether {@code c} goes out as one record when parts are {@code partBytes} long. */
  public static boolean fitsOneRecord(Checkpoint c, int partBytes) {
    return c.getSerializedSize() <= partBytes;
  }

  /**
   * Serializes {@code c} and hands out its part records, in order, as each fills (the whole
   * serialized checkpoint is never in memory at once). The parts carry model, run and iteration
   * so that readers can skip what they do not want; {@code upload} names this publication and
   * must differ from every other (a random UUID, say).
   *
   * @return what the manifest needs besides the parts' offsets: see {@link Upload#manifest}
   */
  public static Upload split(Checkpoint c, int partBytes, String upload, Consumer<Checkpoint> eachPart) {
    if (partBytes <= 0) {
      throw new IllegalArgumentException("part size must be positive: " + partBytes);
    }
    long size = c.getSerializedSize();
    int count = (int) ((size + partBytes - 1) / partBytes);
    Chunker out = new Chunker(c, partBytes, upload, count, eachPart);
    try {
      CodedOutputStream cos = CodedOutputStream.newInstance(out, 64 * 1024);
      c.writeTo(cos);
      cos.flush();
      out.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("serializing checkpoint " + c.getIteration() + " of " + c.getModel(), e);
    }
    if (out.index != count || out.total != size) {
      throw new IllegalStateException("checkpoint " + c.getIteration() + " of " + c.getModel() + " serialized to "
          + out.total + " bytes in " + out.index + " parts, expected " + size + " in " + count);
    }
    return new Upload(c, upload, size, HexFormat.of().formatHex(out.whole.digest()), out.sizes, out.sums, partBytes);
  }

  /** A publication in parts, once its parts are out: builds the manifest from their offsets. */
  public static final class Upload {
    private final Checkpoint checkpoint;
    private final String upload;
    private final long size;
    private final String sha256;
    private final List<Integer> sizes;
    private final List<String> sums;
    private final int partBytes;

    private Upload(Checkpoint checkpoint, String upload, long size, String sha256, List<Integer> sizes,
        List<String> sums, int partBytes) {
      this.checkpoint = checkpoint;
      this.upload = upload;
      this.size = size;
      this.sha256 = sha256;
      this.sizes = List.copyOf(sizes);
      this.sums = List.copyOf(sums);
      this.partBytes = partBytes;
    }

    /** How many parts went out. */
    public int parts() {
      return sizes.size();
    }

    /** Bytes of the whole serialized checkpoint. */
    public long size() {
      return size;
    }

    /**
     * The manifest record: the checkpoint without caffemodel and solverstate (and, if it would not
     * fit in a part then, without its prototxts and contract too: {@code stripped}), naming part
     * {@code i} at {@code partition}, {@code offsets.get(i)}.
     */
    public Checkpoint manifest(int partition, List<Long> offsets) {
      if (offsets.size() != sizes.size()) {
        throw new IllegalArgumentException(offsets.size() + " offsets for " + sizes.size() + " parts");
      }
      CheckpointManifest.Builder m = CheckpointManifest.newBuilder().setUpload(upload).setSize(size).setSha256(sha256);
      for (int i = 0; i < sizes.size(); i++) {
        m.addParts(PartRef.newBuilder().setPartition(partition).setOffset(offsets.get(i)).setSize(sizes.get(i))
            .setSha256(sums.get(i)));
      }
      Checkpoint.Builder b = checkpoint.toBuilder().clearCaffemodel().clearSolverstate().setManifest(m);
      if (b.build().getSerializedSize() > partBytes) {
        b.clearDeployPrototxt().clearSolverPrototxt().clearNetPrototxt().clearContract()
            .setManifest(m.setStripped(true));
      }
      return b.build();
    }
  }

  /**
   * The checkpoint a manifest names, from its parts in order: each part's size and sha256 must be
   * the manifest's, the whole's size and sha256 too, the parsed checkpoint must be the one the
   * manifest describes (model, run, iteration, sha256) and verify ({@link #verify}).
   *
   * @throws IllegalArgumentException naming the part (index, offset) or the check that fails
   */
  public static Checkpoint assemble(Checkpoint manifest, List<Checkpoint> parts) {
    if (kind(manifest) != Kind.MANIFEST) {
      throw new IllegalArgumentException("not a checkpoint manifest (" + describe(manifest) + ")");
    }
    CheckpointManifest m = manifest.getManifest();
    String what = "checkpoint of " + manifest.getModel() + " at iteration " + manifest.getIteration() + " (upload "
        + m.getUpload() + ", " + m.getPartsCount() + " parts)";
    if (parts.size() != m.getPartsCount()) {
      throw new IllegalArgumentException(what + ": " + parts.size() + " parts given");
    }
    MessageDigest whole = digest();
    List<ByteString> data = new ArrayList<>(parts.size());
    long total = 0;
    for (int i = 0; i < parts.size(); i++) {
      PartRef ref = m.getParts(i);
      Checkpoint p = parts.get(i);
      String where = "part " + i + " at " + ref.getPartition() + "@" + ref.getOffset();
      if (kind(p) != Kind.PART || !p.getPart().getUpload().equals(m.getUpload()) || p.getPart().getIndex() != i) {
        throw new IllegalArgumentException(what + ": the record at " + where + " is not its part " + i + " ("
            + describe(p) + ")");
      }
      ByteString bytes = p.getPart().getData();
      MessageDigest d = digest();
      update(d, bytes);
      String sum = HexFormat.of().formatHex(d.digest());
      if (bytes.size() != ref.getSize() || !sum.equals(ref.getSha256())) {
        throw new IllegalArgumentException(what + ": " + where + " is corrupt: the manifest says " + ref.getSize()
            + " bytes with sha256 " + ref.getSha256() + ", it has " + bytes.size() + " bytes with sha256 " + sum);
      }
      update(whole, bytes);
      total += bytes.size();
      data.add(bytes);
    }
    String sum = HexFormat.of().formatHex(whole.digest());
    if (total != m.getSize() || !sum.equals(m.getSha256())) {
      throw new IllegalArgumentException(what + ": the parts make " + total + " bytes with sha256 " + sum
          + ", the manifest says " + m.getSize() + " with " + m.getSha256());
    }
    Checkpoint c;
    try {
      // A rope over the parts: parsing copies each field once, the parts are never concatenated.
      c = Checkpoint.parseFrom(ByteString.copyFrom(data));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(what + ": the parts verify but are not a Checkpoint: " + e.getMessage(), e);
    }
    if (!c.getModel().equals(manifest.getModel()) || !c.getRun().equals(manifest.getRun())
        || c.getIteration() != manifest.getIteration() || !c.getSha256().equals(manifest.getSha256())) {
      throw new IllegalArgumentException(what + ": the parts hold another checkpoint (" + describe(c) + ")");
    }
    return verify(c);
  }

  /**
   * The verified checkpoint a whole record or a manifest stands for, every part read back by
   * offset: for a reader that meets a manifest without having followed its parts (an index
   * entry read back, a reader that starts at the manifest).
   *
   * @throws IllegalArgumentException when it does not verify, naming the part or check that fails
   * @throws IllegalStateException when a part cannot be read back
   */
  public static Checkpoint complete(Checkpoint record, PartReader reader) {
    return kind(record) == Kind.MANIFEST ? assemble(record, Map.of(), reader) : verify(record);
  }

  /** {@link #assemble(Checkpoint, List)} with the parts in {@code have} (by index) and the others read back. */
  static Checkpoint assemble(Checkpoint manifest, Map<Integer, Checkpoint> have, PartReader reader) {
    CheckpointManifest m = manifest.getManifest();
    List<Checkpoint> parts = new ArrayList<>(m.getPartsCount());
    // Missing parts are read back in runs of one partition, in the manifest's order.
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < m.getPartsCount(); i++) {
      parts.add(have.get(i));
      if (have.get(i) == null) {
        missing.add(i);
      }
    }
    int from = 0;
    while (from < missing.size()) {
      int partition = m.getParts(missing.get(from)).getPartition();
      int to = from;
      List<Long> offsets = new ArrayList<>();
      while (to < missing.size() && m.getParts(missing.get(to)).getPartition() == partition) {
        offsets.add(m.getParts(missing.get(to)).getOffset());
        to++;
      }
      List<byte[]> values = new ArrayList<>(reader.read(partition, offsets));
      for (int k = 0; k < values.size(); k++) {
        int i = missing.get(from + k);
        parts.set(i, parse(values.get(k), "part " + i + " at " + partition + "@" + offsets.get(k)));
        values.set(k, null); // parsed: the record's bytes can go
      }
      from = to;
    }
    return assemble(manifest, parts);
  }

  /** Reads record values back by offset (a Kafka consumer that seeks, in the services and client). */
  @FunctionalInterface
  public interface PartReader {
    /**
     * The values of the records at {@code offsets} of {@code partition}, in the same order.
     *
     * @throws IllegalStateException when one cannot be read (deleted by retention, say), naming it
     */
    List<byte[]> read(int partition, List<Long> offsets);
  }

  /** "model m, run r, iteration i": for messages. */
  static String describe(Checkpoint c) {
    return "model " + c.getModel() + ", run " + c.getRun() + ", iteration " + c.getIteration();
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static void update(MessageDigest d, ByteString bytes) {
    for (ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
      d.update(b);
    }
  }

  /** Cuts the serialized checkpoint into parts as it is written, hashing each and the whole. */
  private static final class Chunker extends OutputStream {
    private final Checkpoint c;
    private final String upload;
    private final int count;
    private final Consumer<Checkpoint> eachPart;
    private final byte[] buf;
    private final MessageDigest whole = digest();
    private final List<Integer> sizes = new ArrayList<>();
    private final List<String> sums = new ArrayList<>();
    private int fill;
    private int index;
    private long total;

    Chunker(Checkpoint c, int partBytes, String upload, int count, Consumer<Checkpoint> eachPart) {
      this.c = c;
      this.upload = upload;
      this.count = count;
      this.eachPart = eachPart;
      this.buf = new byte[partBytes];
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        int n = Math.min(len, buf.length - fill);
        System.arraycopy(b, off, buf, fill, n);
        fill += n;
        off += n;
        len -= n;
        if (fill == buf.length) {
          emit();
        }
      }
    }

    void finish() {
      if (fill > 0) {
        emit();
      }
    }

    private void emit() {
      whole.update(buf, 0, fill);
      MessageDigest d = digest();
      d.update(buf, 0, fill);
      sizes.add(fill);
      sums.add(HexFormat.of().formatHex(d.digest()));
      total += fill;
      Checkpoint part = Checkpoint.newBuilder().setModel(c.getModel()).setRun(c.getRun())
          .setIteration(c.getIteration()).setCreatedMs(c.getCreatedMs())
          .setPart(CheckpointPart.newBuilder().setUpload(upload).setIndex(index).setCount(count)
              .setData(ByteString.copyFrom(buf, 0, fill)))
          .build();
      index++;
      fill = 0;
      eachPart.accept(part);
    }
  }
}
