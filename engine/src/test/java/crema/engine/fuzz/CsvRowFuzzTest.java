package crema.engine.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import crema.engine.csv.CsvLines;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.Labels;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The CSV path of ingest and predict: lines split from a stream, parsed against a schema. */
class CsvRowFuzzTest {
  static final CsvSchema SCHEMA = CsvSchema.of(List.of("id", "a", "b", "c", "target"), "id", "target");

  @FuzzTest(maxDuration = "25s")
  void anyBytesAreRowsOrReasons(@NotNull byte[] input) {
    long start = Fuzzing.start();
    RowParser parser = new RowParser(SCHEMA, new Labels(List.of("x", "y")), input.length % 2 == 0, 256);
    try (CsvLines lines = new CsvLines(new ByteArrayInputStream(input), 256)) {
      byte[] line;
      while ((line = lines.next()) != null) {
        try {
          var row = parser.parse(line, lines.lineNumber());
          if (row.datum().getFloatDataCount() != 3) {
            throw new AssertionError("a row of 3 features became " + row.datum().getFloatDataCount());
          }
          for (float f : row.datum().getFloatDataList()) {
            if (!Float.isFinite(f)) {
              throw new AssertionError("a non-finite feature was accepted: " + f);
            }
          }
        } catch (RowRejectedException e) {
          if (e.kind() == null || e.getMessage() == null) {
            throw new AssertionError("a rejection without its reason", e);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Fuzzing.inTime(start, "CSV parsing", input.length + " bytes");
  }
}
