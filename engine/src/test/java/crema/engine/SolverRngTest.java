package crema.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.SolverParameter;
import crema.engine.io.Prototxt;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Each solver owns its random generator: a seeded run is the same whatever else the JVM does at
 * the same time (another solver training, a service building nets with random fillers).
 */
class SolverRngTest {
  private static final int BATCH = 16;
  private static final int ITERS = 30;

  /** Gaussian fillers, dropout in TRAIN, and a test net built from the same parameters. */
  private static final String NET = """
      name: 'rng'
      layer { name: 'in' type: 'Input' top: 'data' top: 'label'
        input_param { shape { dim: %d dim: 20 } shape { dim: %d } } }
      layer { name: 'ip1' type: 'InnerProduct' bottom: 'data' top: 'ip1'
        inner_product_param { num_output: 32 weight_filler { type: 'gaussian' std: 0.1 }
          bias_filler { type: 'gaussian' std: 0.01 } } }
      layer { name: 'relu1' type: 'ReLU' bottom: 'ip1' top: 'ip1' }
      layer { name: 'drop1' type: 'Dropout' bottom: 'ip1' top: 'ip1' dropout_param { dropout_ratio: 0.5 } }
      layer { name: 'ip2' type: 'InnerProduct' bottom: 'ip1' top: 'ip2'
        inner_product_param { num_output: 5 weight_filler { type: 'gaussian' std: 0.1 } } }
      layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip2' bottom: 'label' top: 'loss' }
      """.formatted(BATCH, BATCH);

  private static Solver solver(long seed) {
    return solver(seed, "");
  }

  /**
   * The seeded solver (30 iterations, a test every 10, no display or snapshot) with {@code extra}
   * solver fields merged over those, its Input blobs filled with fixed random rows.
   */
  static Solver solver(long seed, String extra) {
    NetParameter np = Prototxt.parseNet(NET, "rng");
    SolverParameter.Builder sp = Prototxt.parseSolver("base_lr: 0.05 momentum: 0.9 weight_decay: 0.0005"
        + " lr_policy: 'fixed' max_iter: " + ITERS + " display: 0 snapshot: 0 snapshot_after_train: false"
        + " test_iter: 1 test_interval: 10 random_seed: " + seed, "rng solver").toBuilder();
    Prototxt.parse(extra, "extra", sp);
    Solver s = Solver.create(sp.setNetParam(np).build());
    Random r = new Random(1);
    Blob data = s.net().blob("data");
    for (int i = 0; i < data.count(); i++) {
      data.data()[i] = (float) r.nextGaussian();
    }
    Blob label = s.net().blob("label");
    for (int i = 0; i < label.count(); i++) {
      label.data()[i] = r.nextInt(5);
    }
    return s;
  }

  /** Builds the seeded solver, trains it to max_iter and returns its weights as a caffemodel. */
  private static byte[] train(long seed) {
    try (Solver s = solver(seed)) {
      s.solve(null);
      return s.net().toProto(false).toByteArray();
    }
  }

  @Test
  void sameSeedTwiceIsIdenticalAndTheSeedMatters() {
    byte[] a = train(7);
    assertArrayEquals(a, train(7));
    assertFalse(java.util.Arrays.equals(a, train(8)), "another seed draws other weights and masks");
  }

  @Test
  void twoSolversTrainingSideBySideEachEndAsWhenTrainedAlone() throws Exception {
    byte[] alone7 = train(7);
    byte[] alone8 = train(8);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 3; round++) {
        Future<byte[]> f7 = pool.submit(() -> train(7));
        Future<byte[]> f8 = pool.submit(() -> train(8));
        assertArrayEquals(alone7, f7.get(), "seed 7, round " + round);
        assertArrayEquals(alone8, f8.get(), "seed 8, round " + round);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void netsBuiltMeanwhileByAnotherThreadDoNotShiftTheRun() throws Exception {
    byte[] alone = train(7);
    NetParameter np = Prototxt.parseNet(NET, "rng");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger built = new AtomicInteger();
    Thread builder = new Thread(() -> {
      while (!stop.get()) {
        try (Net n = new Net(np, Net.state(np, Phase.TRAIN, 0, List.of()))) {
          n.forward();
          built.incrementAndGet();
        }
      }
    }, "net-builder");
    builder.start();
    try {
      while (built.get() == 0) {
        Thread.onSpinWait();
      }
      for (int round = 0; round < 3; round++) {
        assertArrayEquals(alone, train(7), "round " + round);
      }
    } finally {
      stop.set(true);
      builder.join();
    }
  }
}
