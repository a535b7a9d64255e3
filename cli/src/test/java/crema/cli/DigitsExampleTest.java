package crema.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The steps of examples/digits/run.sh with the example's own files, on the real UCI digits. */
class DigitsExampleTest {
  @TempDir
  Path tmp;

  @Test
  void mlpReachesAtLeast0975OnTheHeldOutDigits() throws Exception {
    Path repo = Path.of("").toAbsolutePath().getParent();
    Path example = repo.resolve("examples/digits");
    Path copy = Files.createDirectories(tmp.resolve("examples/digits/work"));
    for (String f : new String[] {"digits_train_test.prototxt", "digits_solver.prototxt"}) {
      Files.copy(example.resolve(f), tmp.resolve("examples/digits").resolve(f));
    }
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      csv.append('p').append(i).append(',');
    }
    csv.append("digit\n");
    try (InputStream in = new GZIPInputStream(Files.newInputStream(example.resolve("digits.csv.gz")))) {
      csv.append(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII));
    }
    Files.writeString(copy.resolve("digits.csv"), csv);
    var convert = CremaProcess.run(tmp, "convert", "examples/digits/work/digits.csv",
        "examples/digits/work/train_lmdb", "--label-column", "digit", "--test-fraction", "0.2",
        "--test-output", "examples/digits/work/test_lmdb", "--seed", "0");
    assertEquals(0, convert.exitCode(), convert.log());
    Matcher m = Pattern.compile(", (\\d+) to examples/digits/work/test_lmdb").matcher(convert.log());
    assertTrue(m.find(), convert.log());
    var train = CremaProcess.run(tmp, "train", "-solver", "examples/digits/digits_solver.prototxt");
    assertEquals(0, train.exitCode(), train.log());
    var test = CremaProcess.run(tmp, "test", "-model", "examples/digits/digits_train_test.prototxt",
        "-weights", "examples/digits/work/digits_iter_4000.caffemodel", "-iterations", m.group(1));
    assertEquals(0, test.exitCode(), test.log());
    Matcher acc = Pattern.compile("\\] accuracy = ([0-9.]+)\n").matcher(test.log());
    assertTrue(acc.find(), test.log());
    double accuracy = Double.parseDouble(acc.group(1));
    System.out.println("digits test accuracy = " + accuracy);
    assertTrue(accuracy >= 0.975, "accuracy " + accuracy);
  }
}
