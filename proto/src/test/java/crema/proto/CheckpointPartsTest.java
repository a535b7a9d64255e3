package crema.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint codec on a topic simulated as a list of record values (offset = index): split
 * and reassembled, corrupt parts refused, torn writes ignored, readers starting mid-stream.
 */
class CheckpointPartsTest {
  static final int PART = 64 * 1024;

  /** A checkpoint of {@code bytes} random caffemodel and solverstate bytes, its sha256 computed here. */
  static Checkpoint checkpoint(String run, int iteration, int bytes, long seed) throws Exception {
    Random r = new Random(seed);
    byte[] model = new byte[bytes];
    byte[] state = new byte[bytes / 2];
    r.nextBytes(model);
    r.nextBytes(state);
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update(model);
    d.update(state);
    return Checkpoint.newBuilder().setModel("m").setRun(run).setIteration(iteration)
        .setDeployPrototxt("name: \"deploy\"").setSolverPrototxt("base_lr: 0.1").setNetPrototxt("name: \"net\"")
        .setCaffemodel(ByteString.copyFrom(model)).setSolverstate(ByteString.copyFrom(state))
        .setSha256(HexFormat.of().formatHex(d.digest())).putMetrics("test/accuracy", 0.5).setCreatedMs(7)
        .setContract(ModelContract.newBuilder().addFeatureNames("f0")).build();
  }

  /** The topic: record values in offset order. */
  static final class Topic {
    final List<byte[]> records = new ArrayList<>();
    final List<Long> readBack = new ArrayList<>();

    long append(Checkpoint c) {
      records.add(c.toByteArray());
      return records.size() - 1;
    }

    /** Publishes as the trainer does: whole, or parts then the manifest. Returns the last offset. */
    long publish(Checkpoint c, boolean withManifest) {
      if (CheckpointParts.fitsOneRecord(c, PART)) {
        return append(c);
      }
      List<Long> offsets = new ArrayList<>();
      CheckpointParts.Upload u = CheckpointParts.split(c, PART, UUID.randomUUID().toString(),
          p -> offsets.add(append(p)));
      return withManifest ? append(u.manifest(0, offsets)) : offsets.get(offsets.size() - 1);
    }

    List<byte[]> read(int partition, List<Long> offsets) {
      assertEquals(0, partition);
      readBack.addAll(offsets);
      return offsets.stream().map(o -> records.get(o.intValue())).toList();
    }
  }

  /** Follows the topic from {@code from}: every verified checkpoint completed in order. */
  static List<Checkpoint> follow(Topic t, CheckpointAssembler a, int from) {
    List<Checkpoint> out = new ArrayList<>();
    for (int o = from; o < t.records.size(); o++) {
      Checkpoint r = a.offer(0, o, t.records.get(o));
      if (r != null) {
        out.add(a.complete(r, t::read));
      }
    }
    return out;
  }

  @Test
  void aLargeCheckpointIsSplitIntoPartsAndReassembledByteForByte() throws Exception {
    Checkpoint c = checkpoint("r1", 100, 1 << 20, 1);
    Topic t = new Topic();
    long manifestAt = t.publish(c, true);
    int parts = (int) ((c.getSerializedSize() + PART - 1) / PART);
    assertEquals(parts + 1, t.records.size(), "the parts, then one manifest");
    for (byte[] v : t.records) {
      assertTrue(v.length <= PART + 256, "every record fits a part: " + v.length);
    }
    Checkpoint manifest = Checkpoint.parseFrom(t.records.get((int) manifestAt));
    assertEquals(CheckpointParts.Kind.MANIFEST, CheckpointParts.kind(manifest));
    assertEquals(c.getSerializedSize(), manifest.getManifest().getSize());
    assertTrue(manifest.getCaffemodel().isEmpty() && manifest.getSolverstate().isEmpty());
    assertEquals(c.getDeployPrototxt(), manifest.getDeployPrototxt(), "the manifest keeps the small fields");
    assertEquals(c.getMetricsMap(), manifest.getMetricsMap());
    for (int i = 0; i < parts; i++) {
      assertEquals(i, manifest.getManifest().getParts(i).getOffset(), "part " + i + " by its offset");
    }

    List<Checkpoint> got = follow(t, new CheckpointAssembler(), 0);
    assertEquals(1, got.size());
    assertArrayEquals(c.toByteArray(), got.get(0).toByteArray(), "the same checkpoint, byte for byte");
    assertEquals(List.of(), t.readBack, "a follower kept every part: nothing read back");
  }

  @Test
  void aSmallCheckpointStaysOneRecordAsBefore() throws Exception {
    Checkpoint c = checkpoint("r1", 5, 1000, 2);
    Topic t = new Topic();
    t.publish(c, true);
    assertEquals(1, t.records.size());
    assertArrayEquals(c.toByteArray(), t.records.get(0), "the record is the Checkpoint itself");
    assertEquals(List.of(c), follow(t, new CheckpointAssembler(), 0));
  }

  @Test
  void aCorruptPartIsRefusedNamingItAndItsChecksums() throws Exception {
    Checkpoint c = checkpoint("r1", 100, 1 << 20, 3);
    Topic t = new Topic();
    t.publish(c, true);
    Checkpoint part3 = Checkpoint.parseFrom(t.records.get(3));
    byte[] data = part3.getPart().getData().toByteArray();
    data[100] ^= 1;
    t.records.set(3, part3.toBuilder().setPart(part3.getPart().toBuilder().setData(ByteString.copyFrom(data)))
        .build().toByteArray());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> follow(t, new CheckpointAssembler(), 0));
    assertTrue(e.getMessage().startsWith("checkpoint of m at iteration 100 (upload "), e.getMessage());
    assertTrue(e.getMessage().contains("part 3 at 0@3 is corrupt: the manifest says 65536 bytes with sha256 "),
        e.getMessage());
    assertTrue(e.getMessage().contains(Checkpoint.parseFrom(t.records.get(t.records.size() - 1)).getManifest()
        .getParts(3).getSha256()), e.getMessage());
    // The same from a reader that reads every part back.
    Checkpoint manifest = Checkpoint.parseFrom(t.records.get(t.records.size() - 1));
    assertThrows(IllegalArgumentException.class, () -> CheckpointParts.complete(manifest, t::read));
  }

  @Test
  void aCheckpointWhoseWeightsDoNotMatchItsSha256IsRefusedEvenInParts() throws Exception {
    Checkpoint c = checkpoint("r1", 100, 1 << 20, 4);
    Checkpoint lying = c.toBuilder().setSha256("00" + c.getSha256().substring(2)).build();
    Topic t = new Topic();
    t.publish(lying, true);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> follow(t, new CheckpointAssembler(), 0));
    assertTrue(e.getMessage().startsWith("checksum mismatch: checkpoint of m at iteration 100 says sha256 00"),
        e.getMessage());
  }

  @Test
  void aTornWriteIsIgnoredAndTheRunsNextCheckpointReads() throws Exception {
    Checkpoint torn = checkpoint("r1", 200, 1 << 20, 5);
    Checkpoint next = checkpoint("r1", 200, 1 << 20, 6);
    Checkpoint other = checkpoint("r2", 50, 300_000, 7);
    Topic t = new Topic();
    t.publish(torn, false);                 // the trainer died before the manifest
    t.publish(other, true);                 // another run publishes meanwhile
    t.publish(next, true);                  // the restarted trainer publishes the same iteration again
    CheckpointAssembler a = new CheckpointAssembler();
    List<Checkpoint> got = follow(t, a, 0);
    assertEquals(List.of(other, next), got, "the torn parts never become a checkpoint");
    assertEquals(0, a.keptBytes(), "and are not kept once the run publishes again");
    assertEquals(List.of(), t.readBack);
  }

  @Test
  void aReaderStartingMidStreamReadsTheMissingPartsBackByOffset() throws Exception {
    Checkpoint c = checkpoint("r1", 300, 1 << 20, 8);
    Topic t = new Topic();
    long manifestAt = t.publish(c, true);
    // Starting at offset 5: parts 0-4 were never seen.
    List<Checkpoint> got = follow(t, new CheckpointAssembler(), 5);
    assertEquals(1, got.size());
    assertArrayEquals(c.toByteArray(), got.get(0).toByteArray());
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L), t.readBack, "exactly the parts it had not seen");

    // Starting at the manifest itself (an index entry read back): every part by offset.
    t.readBack.clear();
    Checkpoint manifest = Checkpoint.parseFrom(t.records.get((int) manifestAt));
    assertArrayEquals(c.toByteArray(), CheckpointParts.complete(manifest, t::read).toByteArray());
    assertEquals(manifestAt, t.readBack.size());
  }

  @Test
  void partsOfUnwantedCheckpointsAreNotKeptButStillReadable() throws Exception {
    Checkpoint c = checkpoint("r1", 300, 1 << 20, 9);
    Topic t = new Topic();
    t.publish(c, true);
    CheckpointAssembler a = new CheckpointAssembler(p -> !p.getRun().equals("r1"), 1 << 30);
    for (int o = 0; o < t.records.size() - 1; o++) {
      assertNull(a.offer(0, o, t.records.get(o)));
      assertEquals(0, a.keptBytes());
    }
    Checkpoint manifest = a.offer(0, t.records.size() - 1, t.records.get(t.records.size() - 1));
    assertArrayEquals(c.toByteArray(), a.complete(manifest, t::read).toByteArray());
  }

  @Test
  void aManifestThatWouldNotFitAPartLeavesItsPrototxtsToTheParts() throws Exception {
    Checkpoint c = checkpoint("r1", 1, 1 << 20, 10).toBuilder().setNetPrototxt("#".repeat(PART)).build();
    Topic t = new Topic();
    long at = t.publish(c, true);
    Checkpoint manifest = Checkpoint.parseFrom(t.records.get((int) at));
    assertTrue(manifest.getManifest().getStripped());
    assertTrue(manifest.getSerializedSize() <= PART);
    assertEquals("", manifest.getNetPrototxt());
    assertSame(CheckpointParts.Kind.MANIFEST, CheckpointParts.kind(manifest));
    assertEquals(c.getNetPrototxt(), CheckpointParts.complete(manifest, t::read).getNetPrototxt());
  }
}
