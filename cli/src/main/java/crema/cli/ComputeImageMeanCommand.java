package crema.cli;

import caffe.Caffe.BlobProto;
import caffe.Caffe.Datum;
import crema.engine.data.ImageDatums;
import crema.engine.data.LmdbCursor;
import crema.engine.io.BinaryProto;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code crema compute_image_mean DB [MEAN.binaryproto]}: Caffe's compute_image_mean, the mean
 * image of an LMDB of Datums (encoded ones decoded) as a BlobProto for transform_param.mean_file,
 * and the per-channel means for transform_param.mean_value.
 */
@Command(name = "compute_image_mean", description = "Compute the mean image of an LMDB of Datums, as Caffe's compute_image_mean.")
final class ComputeImageMeanCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(ComputeImageMeanCommand.class.getName());

  @Parameters(index = "0", description = "The LMDB directory.")
  Path db;

  @Parameters(index = "1", arity = "0..1", description = "The .binaryproto file to write.")
  Path output;

  @Override
  public Integer call() {
    BlobProto mean;
    long count;
    try (LmdbCursor cursor = LmdbCursor.open(db.toString())) {
      count = cursor.size();
      Iterable<Datum> all = () -> new Iterator<>() {
        long read;

        @Override
        public boolean hasNext() {
          return read < count;
        }

        @Override
        public Datum next() {
          if (read >= count) {
            throw new NoSuchElementException();
          }
          read++;
          return cursor.next();
        }
      };
      mean = ImageDatums.mean(all);
    }
    LOG.log(Level.INFO, "Processed " + count + " files.");
    if (output != null) {
      LOG.log(Level.INFO, "Write to " + output);
      BinaryProto.write(mean, output);
    }
    int channels = mean.getChannels();
    int dim = mean.getHeight() * mean.getWidth();
    LOG.log(Level.INFO, "Number of channels: " + channels);
    for (int c = 0; c < channels; c++) {
      double s = 0;
      for (int i = 0; i < dim; i++) {
        s += mean.getData(c * dim + i);
      }
      LOG.log(Level.INFO, "mean_value channel [" + c + "]: " + (float) (s / dim));
    }
    return 0;
  }
}
