package crema.engine.data;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import com.google.protobuf.ByteString;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Images as Caffe's Datums, the way Caffe's {@code io.cpp} makes them with OpenCV: pixels as uint8
 * {@code data} in channel × height × width order with colour planes in OpenCV's <b>BGR</b> order
 * (or one grey plane), or the PNG/JPEG file itself in {@code data} with {@code encoded} set.
 * Decoding uses the JDK's ImageIO (PNG, JPEG, BMP, GIF).
 */
public final class ImageDatums {
  private ImageDatums() {}

  /**
   * How to read an image (Caffe's convert_imageset flags).
   *
   * @param resizeHeight resize to this height (0: keep), with {@code resizeWidth}
   * @param resizeWidth resize to this width (0: keep)
   * @param gray one grey plane instead of three BGR planes
   * @param encoding store the image encoded: {@code "png"} or {@code "jpg"}; {@code ""} stores raw
   *     pixels; {@code "auto"} keeps each file's own format (Caffe's --encoded with no
   *     --encode_type)
   */
  public record Options(int resizeHeight, int resizeWidth, boolean gray, String encoding) {
    public Options {
      if (resizeHeight < 0 || resizeWidth < 0) {
        throw new IllegalArgumentException("resize height and width must be 0 (keep) or positive");
      }
      encoding = encoding == null ? "" : encoding.toLowerCase(Locale.ROOT);
      if (!encoding.isEmpty() && !encoding.equals("auto") && !encoding.equals("png") && !encoding.equals("jpg")
          && !encoding.equals("jpeg")) {
        throw new IllegalArgumentException("encode_type must be png or jpg, got '" + encoding + "'");
      }
    }

    /** Raw pixels, the image's own size, colour. */
    public static Options raw() {
      return new Options(0, 0, false, "");
    }
  }

  /**
   * Reads an image file into a Datum, as Caffe's ReadImageToDatum.
   *
   * @throws IOException when the file cannot be read or decoded, naming it
   */
  public static Datum read(Path file, int label, Options o) throws IOException {
    return read(Files.readAllBytes(file), file.toString(), label, o);
  }

  /**
   * An image file's bytes (from an archive, an upload) into a Datum, as {@link #read(Path, int,
   * Options)}; {@code name} gives the format for {@code "auto"} (its extension) and names it in errors.
   *
   * @throws IOException when the bytes cannot be decoded, naming {@code name}
   */
  public static Datum read(byte[] bytes, String name0, int label, Options o) throws IOException {
    BufferedImage image = decode(bytes, name0);
    String name = name0.toLowerCase(Locale.ROOT);
    String file = name0;
    String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
    Pixels pixels = Pixels.of(image, o.gray()).resized(o.resizeHeight(), o.resizeWidth());
    if (!o.encoding().isEmpty()) {
      String enc = o.encoding().equals("auto") ? ext : o.encoding();
      boolean sameColour = isColour(image) == !o.gray();
      if (sameColour && o.resizeHeight() == 0 && o.resizeWidth() == 0 && sameFormat(ext, enc)) {
        // Caffe's ReadFileToDatum: the file's bytes as they are.
        return Datum.newBuilder().setData(ByteString.copyFrom(bytes)).setLabel(label).setEncoded(true).build();
      }
      return Datum.newBuilder().setData(ByteString.copyFrom(encode(pixels.image(), enc, file.toString())))
          .setLabel(label).setEncoded(true).build();
    }
    return pixels.datum().toBuilder().setLabel(label).build();
  }

  /** An image's pixels as a raw Datum: channels, height, width and uint8 CHW data (BGR or grey). */
  public static Datum toDatum(BufferedImage image, boolean gray) {
    return Pixels.of(image, gray).datum();
  }

  /**
   * An encoded Datum's pixels as a raw one, keeping its label (Caffe's DecodeDatumNative): colour
   * images as three BGR planes, grey ones as one. A raw Datum is returned as it is.
   *
   * @throws IllegalArgumentException when the bytes are no image ImageIO can read
   */
  public static Datum decode(Datum d) {
    return decode(d, false, false);
  }

  /**
   * {@link #decode(Datum)} with transform_param's {@code force_color} (three planes even from a
   * grey image) or {@code force_gray} (one plane even from a colour image), as Caffe's
   * DecodeDatumToCVMat.
   */
  public static Datum decode(Datum d, boolean forceColor, boolean forceGray) {
    if (!d.getEncoded()) {
      return d;
    }
    if (forceColor && forceGray) {
      throw new IllegalArgumentException("transform_param: force_color and force_gray cannot both be set");
    }
    try {
      BufferedImage image = decode(d.getData().toByteArray(), "encoded Datum");
      boolean gray = forceGray || (!forceColor && !isColour(image));
      return toDatum(image, gray).toBuilder().setLabel(d.getLabel()).build();
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** The pixels of a uint8 image Datum (1 or 3 planes, BGR; encoded or raw) as an image, for drawing. */
  public static BufferedImage toImage(Datum d) {
    Datum raw = decode(d);
    int c = raw.getChannels();
    int h = raw.getHeight();
    int w = raw.getWidth();
    byte[] data = raw.getData().toByteArray();
    if (data.length != c * h * w || (c != 1 && c != 3)) {
      throw new IllegalArgumentException("not an image Datum: " + c + "x" + h + "x" + w + " with "
          + data.length + " bytes of data");
    }
    return new Pixels(c, h, w, data).image();
  }

  /** PNG bytes of an image, for the dashboard and for tests. */
  public static byte[] png(BufferedImage image) {
    try {
      return encode(image, "png", "image");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The element-wise mean of Datums (decoded when encoded), as Caffe's compute_image_mean writes
   * it: a BlobProto of num 1 and the Datums' channels, height and width.
   *
   * @throws IllegalArgumentException when a Datum's size differs from the first one's, naming it
   */
  public static BlobProto mean(Iterable<Datum> datums) {
    double[] sum = null;
    int c = 0;
    int h = 0;
    int w = 0;
    long n = 0;
    for (Datum d0 : datums) {
      Datum d = decode(d0);
      if (sum == null) {
        c = d.getChannels();
        h = d.getHeight();
        w = d.getWidth();
        sum = new double[c * h * w];
      } else if (d.getChannels() != c || d.getHeight() != h || d.getWidth() != w) {
        throw new IllegalArgumentException("Datum " + n + " is " + d.getChannels() + "x" + d.getHeight() + "x"
            + d.getWidth() + ", the first was " + c + "x" + h + "x" + w + ": the mean needs one size"
            + " (convert with --resize_height and --resize_width)");
      }
      if (!d.getData().isEmpty()) {
        byte[] data = d.getData().toByteArray();
        for (int i = 0; i < sum.length; i++) {
          sum[i] += data[i] & 0xff;
        }
      } else {
        for (int i = 0; i < sum.length; i++) {
          sum[i] += d.getFloatData(i);
        }
      }
      n++;
    }
    if (sum == null) {
      throw new IllegalArgumentException("no Datums to average");
    }
    BlobProto.Builder b = BlobProto.newBuilder().setNum(1).setChannels(c).setHeight(h).setWidth(w);
    for (double s : sum) {
      b.addData((float) (s / n));
    }
    return b.build();
  }

  private static BufferedImage decode(byte[] bytes, String what) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
    if (image == null) {
      throw new IOException(what + ": not an image ImageIO can decode (PNG, JPEG, BMP, GIF)");
    }
    return image;
  }

  private static byte[] encode(BufferedImage image, String enc, String what) throws IOException {
    String format = enc.equals("jpg") || enc.equals("jpeg") ? "jpeg" : enc;
    BufferedImage out = image;
    if (format.equals("jpeg") && image.getColorModel().hasAlpha()) {
      out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
      out.getGraphics().drawImage(image, 0, 0, null);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    if (!ImageIO.write(out, format, buf)) {
      throw new IOException(what + ": no ImageIO writer for " + enc);
    }
    return buf.toByteArray();
  }

  private static boolean sameFormat(String ext, String enc) {
    String e = ext.equals("jpeg") ? "jpg" : ext;
    String f = enc.equals("jpeg") ? "jpg" : enc;
    return e.equals(f);
  }

  private static boolean isColour(BufferedImage image) {
    return image.getColorModel().getNumColorComponents() >= 3;
  }

  /** OpenCV's RGB→grey: 0.299 R + 0.587 G + 0.114 B, rounded. */
  private static int grey(int r, int g, int b) {
    return (int) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }

  /**
   * uint8 pixels in a Datum's layout: c planes (BGR, or one grey) of h × w. Grey images are read
   * and written through their raster's samples: BufferedImage's getRGB/setRGB would run them
   * through a colour-space conversion that changes the values.
   */
  private record Pixels(int c, int h, int w, byte[] chw) {
    static Pixels of(BufferedImage image, boolean gray) {
      int h = image.getHeight();
      int w = image.getWidth();
      boolean greySource = !isColour(image);
      int bits = image.getColorModel().getComponentSize(0);
      int c = gray ? 1 : 3;
      byte[] data = new byte[c * h * w];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int r;
          int g;
          int b;
          if (greySource) {
            int v = image.getRaster().getSample(x, y, 0) >> Math.max(0, bits - 8);
            r = v;
            g = v;
            b = v;
          } else {
            int rgb = image.getRGB(x, y);
            r = (rgb >> 16) & 0xff;
            g = (rgb >> 8) & 0xff;
            b = rgb & 0xff;
          }
          int i = y * w + x;
          if (gray) {
            data[i] = (byte) (greySource ? r : grey(r, g, b));
          } else {
            data[i] = (byte) b;
            data[h * w + i] = (byte) g;
            data[2 * h * w + i] = (byte) r;
          }
        }
      }
      return new Pixels(c, h, w, data);
    }

    /** Bilinear with pixel centres aligned, as OpenCV's INTER_LINEAR (Caffe's cv::resize); 0 keeps a side. */
    Pixels resized(int newH, int newW) {
      int oh = newH > 0 ? newH : h;
      int ow = newW > 0 ? newW : w;
      if (oh == h && ow == w) {
        return this;
      }
      byte[] out = new byte[c * oh * ow];
      double sy = (double) h / oh;
      double sx = (double) w / ow;
      for (int y = 0; y < oh; y++) {
        double fy = Math.max(0, (y + 0.5) * sy - 0.5);
        int y0 = Math.min((int) fy, h - 1);
        int y1 = Math.min(y0 + 1, h - 1);
        double dy = fy - y0;
        for (int x = 0; x < ow; x++) {
          double fx = Math.max(0, (x + 0.5) * sx - 0.5);
          int x0 = Math.min((int) fx, w - 1);
          int x1 = Math.min(x0 + 1, w - 1);
          double dx = fx - x0;
          for (int k = 0; k < c; k++) {
            int p = k * h * w;
            double v = (1 - dy) * ((1 - dx) * (chw[p + y0 * w + x0] & 0xff) + dx * (chw[p + y0 * w + x1] & 0xff))
                + dy * ((1 - dx) * (chw[p + y1 * w + x0] & 0xff) + dx * (chw[p + y1 * w + x1] & 0xff));
            out[k * oh * ow + y * ow + x] = (byte) Math.min(255, Math.max(0, Math.round(v)));
          }
        }
      }
      return new Pixels(c, oh, ow, out);
    }

    Datum datum() {
      return Datum.newBuilder().setChannels(c).setHeight(h).setWidth(w).setData(ByteString.copyFrom(chw)).build();
    }

    BufferedImage image() {
      BufferedImage image = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int i = y * w + x;
          if (c == 1) {
            image.getRaster().setSample(x, y, 0, chw[i] & 0xff);
          } else {
            int b = chw[i] & 0xff;
            int g = chw[h * w + i] & 0xff;
            int r = chw[2 * h * w + i] & 0xff;
            image.setRGB(x, y, (r << 16) | (g << 8) | b);
          }
        }
      }
      return image;
    }
  }
}
