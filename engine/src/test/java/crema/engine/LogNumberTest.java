package crema.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LogNumberTest {
  @Test
  void printsAsCppOstreamDoes() {
    assertEquals("0.618973", LogNumber.format(0.61897271f));
    assertEquals("2.37189", LogNumber.format(2.371889f));
    assertEquals("0.785", LogNumber.format(0.785f));
    assertEquals("0.00999925", LogNumber.format(0.0099992505f));
    assertEquals("1", LogNumber.format(1.0));
    assertEquals("87.3365", LogNumber.format(87.33654));
    assertEquals("1.4013e-45", LogNumber.format(Float.MIN_VALUE));
    assertEquals("5500", LogNumber.format(5500));
    assertEquals("1.23457e+06", LogNumber.format(1234567));
    assertEquals("0.0001", LogNumber.format(0.0001));
    assertEquals("1e-05", LogNumber.format(0.00001));
    assertEquals("-0.5", LogNumber.format(-0.5));
    assertEquals("nan", LogNumber.format(Double.NaN));
  }
}
