package crema.engine.layers;

import crema.engine.Blob;

/**
 * How a per-channel operand (Scale's γ, Bias's β) lines up with x: x is viewed as
 * (outer, dim, inner) where dim covers the operand's axes starting at {@code axis}.
 */
record Broadcast(int outer, int dim, int inner) {
  static Broadcast of(Blob x, int axis, Blob operand) {
    int a = x.canonicalAxis(axis);
    if (x.numAxes() < a + operand.numAxes()) {
      throw new IllegalArgumentException("operand of shape " + operand.shapeString()
          + " does not fit blob " + x.shapeString() + " from axis " + a);
    }
    for (int i = 0; i < operand.numAxes(); i++) {
      if (x.shape(a + i) != operand.shape(i)) {
        throw new IllegalArgumentException("dimension mismatch between bottom " + x.shapeString()
            + " axis " + (a + i) + " and operand " + operand.shapeString() + " axis " + i);
      }
    }
    return new Broadcast(x.count(0, a), operand.count(), x.count(a + operand.numAxes()));
  }

  /** The operand's shape for a learned parameter: x's axes [axis, axis + numAxes), −1 = to the end. */
  static int[] paramShape(Blob x, int axis, int numAxes) {
    int a = x.canonicalAxis(axis);
    if (numAxes < -1) {
      throw new IllegalArgumentException("num_axes must be non-negative, or -1 to extend to the end");
    }
    int end = numAxes == -1 ? x.numAxes() : a + numAxes;
    if (end > x.numAxes()) {
      throw new IllegalArgumentException("axis " + a + " + num_axes " + numAxes
          + " exceeds the bottom's axes " + x.shapeString());
    }
    int[] s = new int[end - a];
    for (int i = a; i < end; i++) {
      s[i - a] = x.shape(i);
    }
    return s;
  }
}
