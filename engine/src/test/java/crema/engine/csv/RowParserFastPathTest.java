package crema.engine.csv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * RowParser's shortcuts (digit runs without parseDouble, ln(1 + 0) without a log, ASCII lines
 * without a decoder, commas without a regex split) give exactly what the general path gives.
 */
class RowParserFastPathTest {
  /** The general path: parseDouble, then the log in double rounded once to float. */
  private static float reference(String raw, boolean log1p) {
    double v = Double.parseDouble(raw.strip());
    return log1p ? (float) Math.log(v + 1.0) : (float) v;
  }

  @Test
  void digitRunsAndZerosAsParseDoubleAndLog() throws RowRejectedException {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    for (int i = 0; i < 200_000; i++) {
      int len = 1 + r.nextInt(12);
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < len; k++) {
        b.append((char) ('0' + (r.nextInt(3) == 0 ? 0 : r.nextInt(10))));
      }
      String raw = r.nextInt(10) == 0 ? " " + b + " " : b.toString();
      for (boolean log1p : new boolean[] {false, true}) {
        assertEquals(Float.floatToIntBits(reference(raw, log1p)),
            Float.floatToIntBits(RowParser.feature(raw, "c", log1p)), "seed " + seed + ": '" + raw + "' log1p " + log1p);
      }
    }
    for (String raw : new String[] {"0", "-0", "0.0", "-0.0", "00", "1e3", "+7", "3.5"}) {
      for (boolean log1p : new boolean[] {false, true}) {
        assertEquals(Float.floatToIntBits(reference(raw, log1p)), Float.floatToIntBits(RowParser.feature(raw, "c", log1p)),
            raw);
      }
    }
  }

  @Test
  void fieldsAsTheDecoderAndSplitGiveThem() throws RowRejectedException {
    for (String line : new String[] {"a,b,,c", ",", "", "x", "1,2,3\r", "é,ü,1", "a,b,", ",a"}) {
      if (line.isBlank()) {
        continue;
      }
      String text = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      assertEquals(java.util.Arrays.asList(text.split(",", -1)),
          RowParser.fields(line.getBytes(StandardCharsets.UTF_8), 1 << 20), line);
    }
  }

  @Test
  void rowsAsTheGeneralPathParsesThem() throws RowRejectedException {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    String[] values = {"0", "7", "0012", "123456789", "1234567890", "3.5", "1e3", " 4", "5 ", "-0", "+2", ""};
    CsvSchema schema = CsvSchema.of(java.util.List.of("id", "a", "b", "c", "target"), "id", "target");
    for (boolean log1p : new boolean[] {false, true}) {
      RowParser parser = new RowParser(schema, new Labels(java.util.List.of("x", "y")), log1p, 1 << 20);
      for (int i = 0; i < 20_000; i++) {
        String[] v = {values[r.nextInt(values.length)], values[r.nextInt(values.length)], values[r.nextInt(values.length)]};
        String line = "r" + i + "," + String.join(",", v) + "," + (r.nextBoolean() ? "x" : "y");
        float[] expected = new float[3];
        String failure = null;
        for (int k = 0; k < 3 && failure == null; k++) {
          try {
            expected[k] = RowParser.feature(v[k], new String[] {"a", "b", "c"}[k], log1p);
          } catch (RowRejectedException e) {
            failure = e.getMessage();
          }
        }
        try {
          CsvRow row = parser.parse(line.getBytes(StandardCharsets.US_ASCII), i + 2);
          assertEquals(null, failure, "seed " + seed + ": " + line);
          for (int k = 0; k < 3; k++) {
            assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(row.datum().getFloatData(k)),
                "seed " + seed + ": " + line);
          }
          assertEquals("r" + i, row.id());
        } catch (RowRejectedException e) {
          assertEquals(failure, e.getMessage(), "seed " + seed + ": " + line);
        }
      }
    }
  }
}
