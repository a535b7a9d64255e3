package crema.cli;

import caffe.Caffe.Datum;
import crema.engine.data.ImageDatums;
import crema.engine.data.LmdbWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crema convert_imageset ROOT/ LISTFILE DB}: Caffe's convert_imageset. Each line of the
 * list file is {@code path label} (the path relative to ROOT, the label an integer); each image
 * becomes a Datum under the key {@code %08d_path}, raw BGR pixels or encoded. Unreadable images
 * are reported with file and line and skipped; the exit code is 2 when any was.
 */
@Command(name = "convert_imageset", description = "Convert a set of images (a list of 'path label' lines) into an LMDB of Datums, as Caffe's convert_imageset.")
final class ConvertImagesetCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(ConvertImagesetCommand.class.getName());

  @Parameters(index = "0", description = "The folder the listed paths are relative to.")
  Path root;

  @Parameters(index = "1", description = "The list file: one 'path label' line per image.")
  Path listFile;

  @Parameters(index = "2", description = "The LMDB directory to create.")
  Path db;

  @Option(names = "--gray", description = "Store one grey plane instead of three BGR planes.")
  boolean gray;

  @Option(names = "--shuffle", description = "Shuffle the lines (with --seed) before converting.")
  boolean shuffle;

  @Option(names = "--seed", defaultValue = "0", description = "The seed of --shuffle.")
  long seed;

  @Option(names = "--resize_height", defaultValue = "0", description = "Resize images to this height (0: keep).")
  int resizeHeight;

  @Option(names = "--resize_width", defaultValue = "0", description = "Resize images to this width (0: keep).")
  int resizeWidth;

  @Option(names = "--check_size", description = "Fail when the images are not all one size.")
  boolean checkSize;

  @Option(names = "--encoded", description = "Store the images encoded (PNG/JPEG) instead of as pixels.")
  boolean encoded;

  @Option(names = "--encode_type", defaultValue = "", description = "With --encoded: png or jpg (default: each file's own format).")
  String encodeType;

  @Option(names = "--backend", defaultValue = "lmdb", description = "The database: lmdb (leveldb is not supported).")
  String backend;

  record Line(int number, String path, int label) {}

  @Override
  public Integer call() throws IOException {
    if (!backend.equals("lmdb")) {
      LOG.log(Level.ERROR, "--backend " + backend + ": Crema writes LMDB only");
      return 1;
    }
    List<Line> lines = new ArrayList<>();
    int number = 0;
    int bad = 0;
    for (String text : Files.readAllLines(listFile)) {
      number++;
      if (text.isBlank()) {
        continue;
      }
      // Caffe splits at the last space, so paths may hold spaces.
      int space = text.stripTrailing().lastIndexOf(' ');
      try {
        lines.add(new Line(number, text.substring(0, space).strip(), Integer.parseInt(text.substring(space + 1).strip())));
      } catch (RuntimeException e) {
        LOG.log(Level.ERROR, listFile + ":" + number + ": expected 'path label' with an integer label, got '" + text + "'");
        bad++;
      }
    }
    if (shuffle) {
      Collections.shuffle(lines, new Random(seed));
    }
    LOG.log(Level.INFO, "A total of " + lines.size() + " images.");
    ImageDatums.Options options = new ImageDatums.Options(resizeHeight, resizeWidth, gray,
        encoded ? (encodeType.isEmpty() ? "auto" : encodeType) : "");
    int size = -1;
    long written = 0;
    try (LmdbWriter out = new LmdbWriter(db)) {
      for (int i = 0; i < lines.size(); i++) {
        Line line = lines.get(i);
        Datum d;
        try {
          d = ImageDatums.read(root.resolve(line.path()), line.label(), options);
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.ERROR, listFile + ":" + line.number() + ": could not read " + root.resolve(line.path()) + ": "
              + e.getMessage());
          bad++;
          continue;
        }
        if (checkSize && !d.getEncoded()) {
          int s = d.getData().size();
          if (size >= 0 && s != size) {
            LOG.log(Level.ERROR, listFile + ":" + line.number() + ": " + line.path() + " has " + s + " values, the first image "
                + size + " (--check_size)");
            return 1;
          }
          size = s;
        }
        out.put(String.format("%08d_%s", i, line.path()), d.toByteArray());
        written++;
        if (written % 1000 == 0) {
          LOG.log(Level.INFO, "Processed " + written + " files.");
        }
      }
    }
    LOG.log(Level.INFO, "Processed " + written + " files." + (bad > 0 ? " Skipped " + bad + " lines." : ""));
    return bad > 0 ? 2 : 0;
  }
}
