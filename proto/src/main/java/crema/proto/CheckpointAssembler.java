package crema.proto;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The reading side of {@link CheckpointParts} for a reader that follows the checkpoint topic in
 * order: {@link #offer} each record; parts are kept (those {@code wanted}, up to a memory bound),
 * a whole checkpoint or a manifest is handed back, and {@link #complete} turns either into a
 * verified checkpoint. A manifest whose parts were not all kept here (the reader started in the
 * middle of them, or they were dropped for memory) gets the others from a
 * {@link CheckpointParts.PartReader}, which reads them back by the offsets the manifest names.
 *
 * <p>Parts that no manifest follows (a writer killed while publishing) are a torn write: they are
 * dropped, with one log line, as soon as the same run starts another publication, and never
 * become a checkpoint. Not thread-safe: one reader thread.
 */
public final class CheckpointAssembler {
  private static final System.Logger LOG = System.getLogger(CheckpointAssembler.class.getName());

  private final Predicate<Checkpoint> wanted;
  private final long maxKeptBytes;
  /** Parts kept, by upload, in the order their first part came. */
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  /** The parts of the last manifest offered, for {@link #complete}. */
  private Pending lastManifest;
  private long kept;

  private static final class Pending {
    final String model;
    final String run;
    final int iteration;
    final Map<Integer, Checkpoint> parts = new LinkedHashMap<>();
    long bytes;

    Pending(Checkpoint first) {
      this.model = first.getModel();
      this.run = first.getRun();
      this.iteration = first.getIteration();
    }
  }

  /**
   * @param wanted which parts to keep, by the model, run and iteration they carry; the others
   *     are read back by offset if their manifest is ever completed
   * @param maxKeptBytes the most part bytes kept at once; beyond it the oldest upload's are dropped
   */
  public CheckpointAssembler(Predicate<Checkpoint> wanted, long maxKeptBytes) {
    this.wanted = wanted;
    this.maxKeptBytes = maxKeptBytes;
  }

  /** Every part kept, up to 1 GiB. */
  public CheckpointAssembler() {
    this(c -> true, 1L << 30);
  }

  /**
   * One record of the topic, in the topic's order: null for a part (kept or skipped), else the
   * whole checkpoint or manifest as read (not yet verified: see {@link #complete}).
   *
   * @throws IllegalArgumentException when {@code value} is not a Checkpoint record
   */
  public Checkpoint offer(int partition, long offset, byte[] value) {
    return offer(CheckpointParts.parse(value, partition + "@" + offset));
  }

  /** {@link #offer(int, long, byte[])} for a record parsed already. */
  public Checkpoint offer(Checkpoint record) {
    lastManifest = null;
    switch (CheckpointParts.kind(record)) {
      case PART -> {
        keep(record);
        return null;
      }
      case MANIFEST -> {
        lastManifest = pending.remove(record.getManifest().getUpload());
        if (lastManifest != null) {
          kept -= lastManifest.bytes;
        }
        return record;
      }
      default -> {
        return record;
      }
    }
  }

  private void keep(Checkpoint part) {
    CheckpointPart p = part.getPart();
    Pending mine = pending.get(p.getUpload());
    if (mine == null) {
      // Another publication of the same run begins: one still without its manifest never gets one.
      for (Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Pending> e = it.next();
        Pending other = e.getValue();
        if (other.model.equals(part.getModel()) && other.run.equals(part.getRun())) {
          LOG.log(System.Logger.Level.WARNING, "ignoring {0} parts ({1} bytes) of the checkpoint of {2}"
              + " at iteration {3} (run {4}, upload {5}): no manifest followed them, a torn write",
              Integer.toString(other.parts.size()), Long.toString(other.bytes), other.model,
              Integer.toString(other.iteration), other.run, e.getKey());
          kept -= other.bytes;
          it.remove();
        }
      }
      if (!wanted.test(part)) {
        return;
      }
      mine = new Pending(part);
      pending.put(p.getUpload(), mine);
    }
    mine.parts.put(p.getIndex(), part);
    mine.bytes += p.getData().size();
    kept += p.getData().size();
    while (kept > maxKeptBytes && !pending.isEmpty()) {
      // The oldest publication's parts go; its manifest, if it comes, reads them back by offset.
      Iterator<Pending> it = pending.values().iterator();
      Pending oldest = it.next();
      kept -= oldest.bytes;
      it.remove();
    }
  }

  /** Part bytes kept now, waiting for their manifest. */
  public long keptBytes() {
    return kept;
  }

  /**
   * The verified checkpoint {@code record} is or names: a whole one is verified as it is; for a
   * manifest just offered, the parts kept here are used and the others read back by offset.
   *
   * @throws IllegalArgumentException when it does not verify, naming the part or check that fails
   * @throws IllegalStateException when a part cannot be read back
   */
  public Checkpoint complete(Checkpoint record, CheckpointParts.PartReader reader) {
    if (CheckpointParts.kind(record) != CheckpointParts.Kind.MANIFEST) {
      return CheckpointParts.verify(record);
    }
    Pending have = lastManifest != null && lastManifest.run.equals(record.getRun()) ? lastManifest : null;
    lastManifest = null;
    return CheckpointParts.assemble(record, have == null ? Map.of() : have.parts, reader);
  }
}
