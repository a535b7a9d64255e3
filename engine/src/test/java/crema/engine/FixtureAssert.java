package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverState;
import crema.engine.check.Conformance;
import java.util.List;

/**
 * Comparisons of Crema's outputs with Caffe's, element by element: each element's error is
 * |crema − caffe| / max(|caffe|, 1e-3) (see {@link Conformance#relativeError}).
 */
public final class FixtureAssert {
  private FixtureAssert() {}

  public static double relativeError(BlobProto expected, BlobProto actual) {
    assertEquals(expected.getDataCount(), actual.getDataCount(), "blob size");
    return Conformance.relativeError(expected, actual);
  }

  /** Asserts every parameter blob of every layer that has blobs agrees within {@code tol}. */
  public static double assertWeightsClose(NetParameter expected, NetParameter actual, double tol, String what) {
    double worst = 0;
    for (LayerParameter e : expected.getLayerList()) {
      if (e.getBlobsCount() == 0) {
        continue;
      }
      LayerParameter a = actual.getLayerList().stream().filter(l -> l.getName().equals(e.getName()))
          .findFirst().orElseThrow(() -> new AssertionError(what + ": layer " + e.getName() + " missing"));
      assertEquals(e.getBlobsCount(), a.getBlobsCount(), what + ": blobs of " + e.getName());
      for (int i = 0; i < e.getBlobsCount(); i++) {
        double err = relativeError(e.getBlobs(i), a.getBlobs(i));
        worst = Math.max(worst, err);
        assertTrue(err <= tol, what + ": " + e.getName() + " blob " + i + " differs by " + err + " (element-wise)");
      }
    }
    return worst;
  }

  public static double assertHistoryClose(SolverState expected, SolverState actual, double tol, String what) {
    assertEquals(expected.getIter(), actual.getIter(), what + ": iter");
    assertEquals(expected.getCurrentStep(), actual.getCurrentStep(), what + ": current_step");
    List<BlobProto> e = expected.getHistoryList();
    List<BlobProto> a = actual.getHistoryList();
    assertEquals(e.size(), a.size(), what + ": history blobs");
    double worst = 0;
    for (int i = 0; i < e.size(); i++) {
      double err = relativeError(e.get(i), a.get(i));
      worst = Math.max(worst, err);
      assertTrue(err <= tol, what + ": history " + i + " differs by " + err + " (element-wise)");
    }
    return worst;
  }
}
