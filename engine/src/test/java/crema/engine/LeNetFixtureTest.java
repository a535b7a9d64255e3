package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.SolverState;
import crema.engine.check.Conformance;
import crema.engine.io.BinaryProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caffe's MNIST LeNet (conv, max pooling, inner product, ReLU, softmax loss, uint8 Datums scaled
 * by 1/256) against what the real Caffe 1.0 produced on 10,000 real MNIST digits
 * (fixtures/vision-mini/lenet): five SGD steps from Caffe's own initial weights, and 2,000
 * iterations to Caffe's test accuracy.
 */
class LeNetFixtureTest {
  @TempDir
  static Path tmp;
  static Path root;

  @BeforeAll
  static void copyFixture() throws IOException {
    root = OttoFixture.copyTo(tmp, "vision-mini/lenet", "lenet_train_test.prototxt");
    // The LMDBs are kept gzipped (2 MB instead of 17 MB); Caffe's layout is <folder>/data.mdb.
    for (String split : List.of("train_lmdb", "test_lmdb")) {
      Path folder = root.resolve("data").resolve(split);
      try (InputStream in = new GZIPInputStream(Files.newInputStream(folder.resolve("data.mdb.gz")))) {
        Files.copy(in, folder.resolve("data.mdb"));
      }
      Files.delete(folder.resolve("data.mdb.gz"));
    }
  }

  @Test
  void fiveSgdStepsReachCaffesWeightsAndHistory() throws IOException {
    Path out = Files.createDirectories(tmp.resolve("sgd5"));
    SolverParameter sp = OttoFixture.solver(root, "lenet_solver_sgd5.prototxt", out.resolve("lenet").toString());
    try (Solver s = Solver.create(sp)) {
      s.copyWeightsFrom(List.of(root.resolve("init.caffemodel")));
      s.solve(null);
    }
    for (int k : new int[] {1, 5}) {
      NetParameter caffe = BinaryProto.readNet(root.resolve("sgd5/lenet_iter_" + k + ".caffemodel"));
      NetParameter crema = BinaryProto.readNet(out.resolve("lenet_iter_" + k + ".caffemodel"));
      FixtureAssert.assertWeightsClose(caffe, crema, Conformance.SOLVER_TOLERANCE, "LeNet SGD iter " + k);
      SolverState cs = BinaryProto.readSolverState(root.resolve("sgd5/lenet_iter_" + k + ".solverstate"));
      SolverState ms = BinaryProto.readSolverState(out.resolve("lenet_iter_" + k + ".solverstate"));
      FixtureAssert.assertHistoryClose(cs, ms, Conformance.SOLVER_TOLERANCE, "LeNet SGD iter " + k);
    }
  }

  /** Caffe's 2,000 iterations end at test accuracy 0.97, loss 0.106568 on the 2,000 test digits. */
  @Test
  void twoThousandIterationsReachCaffesTestAccuracy() throws IOException {
    Path out = Files.createDirectories(tmp.resolve("train"));
    SolverParameter sp = OttoFixture.solver(root, "lenet_solver.prototxt", out.resolve("lenet").toString())
        .toBuilder().setSnapshot(0).setTestInitialization(false).setTestInterval(100_000).setDisplay(500).build();
    try (Solver s = Solver.create(sp)) {
      s.copyWeightsFrom(List.of(root.resolve("init.caffemodel")));
      s.solve(null);
    }
    NetParameter p = OttoFixture.net(root, "lenet_train_test.prototxt");
    try (Net net = new Net(p, Net.state(p, Phase.TEST, 0, List.of()))) {
      net.copyTrainedLayersFrom(BinaryProto.readNet(out.resolve("lenet_iter_2000.caffemodel")));
      double accuracy = 0;
      double loss = 0;
      for (int i = 0; i < 20; i++) {
        net.forward();
        accuracy += net.blob("accuracy").data()[0];
        loss += net.blob("loss").data()[0];
      }
      accuracy /= 20;
      loss /= 20;
      assertEquals(0.97, accuracy, 0.005, "Caffe 1.0: 0.97 (1940/2000)");
      assertEquals(0.106568, loss, 0.005, "Caffe 1.0: 0.106568");
      assertTrue(Files.exists(out.resolve("lenet_iter_2000.solverstate")));
    }
  }
}
