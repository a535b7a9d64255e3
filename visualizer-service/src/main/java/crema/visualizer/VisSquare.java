package crema.visualizer;

import java.awt.image.BufferedImage;
import java.util.function.IntUnaryOperator;

/**
 * Caffe's vis_square as a picture: tiles of h × w values laid out row by row in a grid, one white
 * pixel between tiles, each value scaled to [0, 255] over its normalisation group. A tile of three
 * planes is a colour tile; the planes are Caffe's BGR order (OpenCV's), drawn as the colours they
 * stand for.
 */
final class VisSquare {
  /** At most this many tiles in one picture. */
  static final int MAX_TILES = 256;
  /** A filter bank of many input channels is drawn one row per filter: at most this many rows and columns. */
  static final int MAX_ROWS = 64;

  private VisSquare() {}

  /**
   * The grid picture.
   *
   * @param v the values
   * @param tiles how many tiles
   * @param offset where tile t's values start in {@code v}
   * @param planes 1 (grey) or 3 (BGR colour) planes of h × w per tile
   * @param cols tiles per row of the grid
   * @param group tiles scaled together: 1 each tile alone, {@code tiles} the whole picture at once
   */
  static BufferedImage grid(float[] v, int tiles, IntUnaryOperator offset, int planes, int h, int w, int cols,
      int group) {
    int rows = Math.max(1, (tiles + cols - 1) / cols);
    int width = Math.max(1, cols * (w + 1) - 1);
    int height = Math.max(1, rows * (h + 1) - 1);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, 0xffffff);
      }
    }
    int size = planes * h * w;
    for (int g0 = 0; g0 < tiles; g0 += group) {
      int g1 = Math.min(tiles, g0 + group);
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (int t = g0; t < g1; t++) {
        int o = offset.applyAsInt(t);
        for (int i = 0; i < size; i++) {
          float x = v[o + i];
          if (Float.isFinite(x)) {
            min = Math.min(min, x);
            max = Math.max(max, x);
          }
        }
      }
      for (int t = g0; t < g1; t++) {
        int o = offset.applyAsInt(t);
        int r0 = (t / cols) * (h + 1);
        int c0 = (t % cols) * (w + 1);
        int plane = h * w;
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            int i = y * w + x;
            int rgb;
            if (planes == 3) {
              int b = level(v[o + i], min, max);
              int gr = level(v[o + plane + i], min, max);
              int r = level(v[o + 2 * plane + i], min, max);
              rgb = (r << 16) | (gr << 8) | b;
            } else {
              int l = level(v[o + i], min, max);
              rgb = (l << 16) | (l << 8) | l;
            }
            img.setRGB(c0 + x, r0 + y, rgb);
          }
        }
      }
    }
    return img;
  }

  /** A value's grey level in its group's range; a group of one value throughout is mid grey. */
  static int level(float x, double min, double max) {
    if (!Float.isFinite(x) || !(max > min)) {
      return 128;
    }
    return (int) Math.round((x - min) / (max - min) * 255);
  }

  /**
   * A filter bank K × C × kh × kw as Caffe's notebook draws one: with one input channel (grey) or
   * three (colour), a near-square grid of the first {@link #MAX_TILES} filters, each scaled alone;
   * with any other number, one row per filter (up to {@link #MAX_ROWS}) of its first
   * {@link #MAX_ROWS} channels, each filter's row scaled together.
   */
  static BufferedImage filters(float[] v, int[] shape) {
    int k = shape[0];
    int c = shape[1];
    int kh = shape[2];
    int kw = shape[3];
    if (c == 1 || c == 3) {
      int tiles = Math.min(MAX_TILES, k);
      int cols = (int) Math.ceil(Math.sqrt(tiles));
      return grid(v, tiles, t -> t * c * kh * kw, c, kh, kw, cols, 1);
    }
    int rows = Math.min(MAX_ROWS, k);
    int cols = Math.min(MAX_ROWS, c);
    return grid(v, rows * cols, t -> ((t / cols) * c + t % cols) * kh * kw, 1, kh, kw, cols, cols);
  }

  /**
   * The channels of one item of a 4-D blob (1 × K × H × W: a layer's output) as Caffe's notebook
   * draws feature maps: the first {@link #MAX_TILES} in a near-square grid, scaled together.
   */
  static BufferedImage maps(float[] v, int channels, int h, int w) {
    int tiles = Math.min(MAX_TILES, channels);
    int cols = (int) Math.ceil(Math.sqrt(tiles));
    return grid(v, tiles, t -> t * h * w, 1, h, w, cols, tiles);
  }
}
