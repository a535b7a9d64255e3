package crema.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.SolverParameter;
import crema.engine.check.Conformance;
import crema.engine.math.Device;
import crema.engine.math.DeviceBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's device side on the {@link HostDevice}: blob memory synchronises lazily (Caffe's
 * SyncedMemory), a training net stays on the device between iterations, and the conformance suite
 * the GPU check runs passes for every layer and solver.
 */
class DeviceTest {
  @TempDir
  Path tmp;

  @Test
  void blobCopiesOnlyTheStaleSide() {
    HostDevice d = new HostDevice();
    Blob b = new Blob(2, 3).named("x");
    b.data()[4] = 7f;
    DeviceBuffer buf = b.deviceData(d);
    assertEquals(1, d.uploads);
    b.deviceData(d);
    assertEquals(1, d.uploads, "a second read of synced memory copies nothing");
    d.scal(6, 2f, b.mutableDeviceData(d));
    assertEquals(1, d.uploads);
    assertEquals(14f, b.data()[4], "the host sees the device's write");
    assertEquals(1, d.downloads);
    b.data()[0] = 1f;
    b.deviceData(d);
    assertEquals(2, d.uploads, "a host write makes the device copy stale");
    assertEquals(buf, b.deviceData(d), "the buffer is reused while the blob does not grow");
    b.reshape(4, 5);
    assertEquals(14f, b.data()[4], "growing keeps the values");
    b.deviceData(d);
    assertEquals("blob x data (4 5 (20))", d.allocations.get(d.allocations.size() - 1),
        "allocations name the blob and its shape");
  }

  @Test
  void zeroDiffOnTheDeviceCopiesNothingBack() {
    HostDevice d = new HostDevice();
    Blob b = new Blob(3);
    b.diff()[1] = 5f;
    d.set(3, 2f, b.mutableDeviceDiff(d));
    b.zeroDiff();
    assertEquals(0, d.downloads);
    assertArrayEquals(new float[] {0, 0, 0}, java.util.Arrays.copyOf(b.diff(), 3));
  }

  @Test
  void trainingNetStaysOnTheDeviceBetweenIterations() throws Exception {
    Path root = OttoFixture.copyTo(tmp);
    SolverParameter sp = OttoFixture.solver(root, "exact/sgd_solver.prototxt", tmp.resolve("out/o").toString())
        .toBuilder().setSnapshot(0).setDisplay(0).setMaxIter(20).clearTestInterval().clearTestIter().build();
    Files.createDirectories(tmp.resolve("out"));
    HostDevice d = new HostDevice();
    Device.use(d);
    try (Solver s = Solver.create(sp)) {
      s.copyWeightsFrom(List.of(root.resolve("exact/init.caffemodel")));
      s.step(2);
      int up = d.uploads;
      int down = d.downloads;
      s.step(10);
      // Per iteration the batch and its labels go up and the per-row losses and counts come
      // down; weights, gradients and solver history stay on the device.
      assertEquals(10 * 2, d.uploads - up, "uploads in 10 iterations");
      assertEquals(10 * 2, d.downloads - down, "downloads in 10 iterations");
    } finally {
      Device.use(null);
    }
  }

  @Test
  void conformanceSuitePassesOnTheHostDevice() {
    Path root = OttoFixture.copyTo(tmp);
    Conformance c = new Conformance(new HostDevice()).layers().solvers(root, tmp);
    c.results().forEach(System.out::println);
    assertTrue(c.results().size() > 50, "cases run: " + c.results().size());
    for (Conformance.Result r : c.results()) {
      assertTrue(r.passed(), r.toString());
    }
    assertTrue(c.results().stream().anyMatch(r -> r.check().contains("InnerProduct (device kernels)")));
    assertTrue(c.results().stream().anyMatch(r -> r.check().contains("Eltwise SUM (host fallback)")));
  }

  @Test
  void outOfMemoryNamesTheBlobTheSizeAndTheRemedy() {
    String m = new crema.engine.math.DeviceOutOfMemoryException("GPU 0 (NVIDIA H200)",
        "blob ip1 data (65536 4096 (268435456))", 1L << 30, 512L << 20, 141L << 30).getMessage();
    assertEquals("out of memory on GPU 0 (NVIDIA H200) allocating blob ip1 data (65536 4096 (268435456)):"
        + " 1.0 GiB needed, 512.0 MiB free of 141.0 GiB. Lower batch_size in the data layer and raise"
        + " iter_size in the solver by the same factor to keep the effective batch (batch_size ×"
        + " iter_size); other processes on the device show in `crema device_query`.", m);
  }
}
