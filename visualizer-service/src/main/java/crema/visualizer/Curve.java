package crema.visualizer;

import java.util.ArrayList;
import java.util.List;

/**
 * One series of a run (loss, learning rate, a test output, an update ratio) with bounded memory:
 * when it holds {@code max} points it keeps every other one and from then on takes every second
 * point offered, doubling again as needed. The first point stays, spacing stays even, and a curve
 * of a million iterations costs what one of {@code max} points does.
 */
final class Curve {
  /** x = iteration, t = wall-clock ms, y = value. */
  record Point(int iteration, long timeMs, double value) {}

  private final int max;
  private final List<Point> points = new ArrayList<>();
  private long offered;
  private int stride = 1;
  private Point last;

  Curve(int max) {
    if (max < 2) {
      throw new IllegalArgumentException("crema.visualizer.max-curve-points must be at least 2, got " + max);
    }
    this.max = max;
  }

  void add(int iteration, long timeMs, double value) {
    last = new Point(iteration, timeMs, value);
    if (offered++ % stride != 0) {
      return;
    }
    points.add(last);
    if (points.size() >= max) {
      List<Point> kept = new ArrayList<>(max / 2 + 1);
      for (int i = 0; i < points.size(); i += 2) {
        kept.add(points.get(i));
      }
      points.clear();
      points.addAll(kept);
      stride *= 2;
    }
  }

  /** The kept points, and the newest one offered if it was not kept: a curve always ends now. */
  List<Point> points() {
    List<Point> out = new ArrayList<>(points);
    if (last != null && (out.isEmpty() || out.get(out.size() - 1) != last)) {
      out.add(last);
    }
    return out;
  }

  long offered() {
    return offered;
  }
}
