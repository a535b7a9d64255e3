package crema.engine;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Numbers as C++'s {@code std::ostream <<} prints them with the default precision 6 (the "%g"
 * shape): 6 significant digits, trailing zeros dropped, scientific notation below 1e-4 or from
 * 1e6. Caffe's logs are written this way and tools such as parse_log.py read them.
 */
public final class LogNumber {
  private LogNumber() {}

  public static String format(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == 0) {
      return (1 / v < 0) ? "-0" : "0";
    }
    BigDecimal d = new BigDecimal(v).round(new MathContext(6));
    int exponent = d.precision() - d.scale() - 1;
    if (exponent < -4 || exponent >= 6) {
      BigDecimal mantissa = d.movePointLeft(exponent);
      String m = strip(mantissa.toPlainString());
      String e = String.format("%02d", Math.abs(exponent));
      return m + "e" + (exponent < 0 ? "-" : "+") + e;
    }
    return strip(d.toPlainString());
  }

  private static String strip(String s) {
    if (s.indexOf('.') < 0) {
      return s;
    }
    s = s.replaceFirst("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
