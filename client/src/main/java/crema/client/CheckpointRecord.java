package crema.client;

import crema.proto.Checkpoint;
import crema.proto.CheckpointParts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * One verified checkpoint from {@code crema.checkpoints}, with where it lies on the topic. Its
 * files are Caffe's snapshot files: {@link #writeTo} writes them. Immutable.
 */
public final class CheckpointRecord {
  private final Checkpoint checkpoint;
  private final int partition;
  private final long offset;
  private final int size;

  CheckpointRecord(Checkpoint checkpoint, int partition, long offset, int size) {
    this.checkpoint = checkpoint;
    this.partition = partition;
    this.offset = offset;
    this.size = size;
  }

  /**
   * Parses and verifies a record's value holding a whole checkpoint: the sha256 it carries must be
   * that of its caffemodel then its solverstate bytes. A checkpoint in parts is read through
   * {@link CremaClient#checkpoints}, which reassembles it.
   *
   * @throws IllegalArgumentException when the bytes are not a whole Checkpoint or do not verify
   */
  public static CheckpointRecord verify(byte[] value, int partition, long offset) {
    Checkpoint c = CheckpointParts.parse(value, partition + "@" + offset);
    if (c.hasManifest() || c.hasPart()) {
      throw new IllegalArgumentException(partition + "@" + offset + " is " + (c.hasPart() ? "a part" : "the manifest")
          + " of a checkpoint in parts (" + c.getModel() + " at iteration " + c.getIteration()
          + "): read it with CremaClient.checkpoints, which reassembles it");
    }
    try {
      CheckpointParts.verify(c);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("checkpoint of " + c.getModel() + " at iteration " + c.getIteration()
          + " does not verify: it says sha256 " + c.getSha256() + ", its bytes have "
          + CheckpointParts.sha256(c.getCaffemodel(), c.getSolverstate()), e);
    }
    return new CheckpointRecord(c, partition, offset, value.length);
  }

  /** Hex sha256 of the byte arrays one after the other. */
  public static String sha256(byte[]... parts) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) {
        d.update(p);
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The record itself. */
  public Checkpoint checkpoint() {
    return checkpoint;
  }

  public String model() {
    return checkpoint.getModel();
  }

  public String run() {
    return checkpoint.getRun();
  }

  public int iteration() {
    return checkpoint.getIteration();
  }

  /** Test and train metrics at this iteration, by name ("test/accuracy", "train/loss"), sorted. */
  public Map<String, Double> metrics() {
    return new TreeMap<>(checkpoint.getMetricsMap());
  }

  /** Hex sha256 of caffemodel || solverstate, verified. */
  public String sha256() {
    return checkpoint.getSha256();
  }

  /** The checkpoint's size on the topic, in bytes (of all its parts, for one in parts). */
  public int size() {
    return size;
  }

  /** Where the record lies: the checkpoint's own, or its manifest's. */
  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  /** {@code <model>_iter_<N>}: Caffe's snapshot name with the model as the prefix. */
  public String snapshotName() {
    return model() + "_iter_" + iteration();
  }

  /**
   * Writes Caffe's snapshot files into {@code dir}: {@code <model>_iter_<N>.caffemodel} and
   * {@code .solverstate}, {@code deploy.prototxt} and the model contract as JSON
   * ({@code <model>.contract.json}, proto3 JSON). Each file is written beside and then moved in, so
   * a reader never sees half of one.
   */
  public SnapshotFiles writeTo(Path dir) throws IOException {
    Files.createDirectories(dir);
    SnapshotFiles f = new SnapshotFiles(dir.resolve(snapshotName() + ".caffemodel"),
        dir.resolve(snapshotName() + ".solverstate"), dir.resolve("deploy.prototxt"),
        dir.resolve(model() + ".contract.json"));
    write(f.caffemodel(), checkpoint.getCaffemodel().toByteArray());
    write(f.solverstate(), checkpoint.getSolverstate().toByteArray());
    write(f.deploy(), checkpoint.getDeployPrototxt().getBytes(StandardCharsets.UTF_8));
    write(f.contract(), ProtoJson.print(checkpoint.getContract()).getBytes(StandardCharsets.UTF_8));
    return f;
  }

  private static void write(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** One line: model, run, iteration, metrics, size, sha256. */
  @Override
  public String toString() {
    StringBuilder m = new StringBuilder();
    metrics().forEach((k, v) -> m.append(m.length() == 0 ? "" : " ").append(k).append('=').append(format(v)));
    return model() + " run=" + run() + " iter=" + iteration() + " " + (m.length() == 0 ? "-" : m) + " size="
        + size + " sha256=" + sha256();
  }

  private static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format("%.6g", v);
  }

  /** The files {@link #writeTo} wrote. */
  public record SnapshotFiles(Path caffemodel, Path solverstate, Path deploy, Path contract) {}
}
