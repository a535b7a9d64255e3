package crema.visualizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CurveTest {
  @Test
  void aShortCurveKeepsEveryPoint() {
    Curve c = new Curve(100);
    for (int i = 0; i < 99; i++) {
      c.add(i * 10, 1000L + i, i * 0.5);
    }
    List<Curve.Point> p = c.points();
    assertEquals(99, p.size());
    assertEquals(new Curve.Point(980, 1098, 49.0), p.get(98));
  }

  @Test
  void aLongCurveStaysBoundedEvenlySpacedAndEndsNow() {
    Curve c = new Curve(100);
    for (int i = 0; i < 1_000_000; i++) {
      c.add(i, i, Math.sin(i));
    }
    List<Curve.Point> p = c.points();
    assertTrue(p.size() <= 101, "bounded: " + p.size());
    assertTrue(p.size() >= 50, "not thinned more than needed: " + p.size());
    assertEquals(0, p.get(0).iteration(), "the first point stays");
    assertEquals(999_999, p.get(p.size() - 1).iteration(), "the newest point is shown");
    int stride = p.get(1).iteration() - p.get(0).iteration();
    for (int i = 1; i < p.size() - 1; i++) {
      assertEquals(stride, p.get(i).iteration() - p.get(i - 1).iteration(), "even spacing at " + i);
      assertEquals(Math.sin(p.get(i).iteration()), p.get(i).value(), 0, "kept points are real points");
    }
    assertEquals(1_000_000, c.offered());
  }

  @Test
  void tooFewPointsIsAConfigurationError() {
    var e = assertThrows(IllegalArgumentException.class, () -> new Curve(1));
    assertTrue(e.getMessage().contains("crema.visualizer.max-curve-points"), e.getMessage());
  }
}
