package crema.engine.io;

import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverState;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Message;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Caffe's binary files: .caffemodel (NetParameter) and .solverstate (SolverState). */
public final class BinaryProto {
  private BinaryProto() {}

  /**
   * Reads a caffemodel and applies Caffe's upgrades (model-zoo files are still V1). A file that
   * starts with HDF5's signature ({@code .caffemodel.h5}) is read by {@link Hdf5Caffemodel}, as
   * Caffe's CopyTrainedLayersFrom does.
   */
  public static NetParameter readNet(Path file) {
    if (Hdf5Caffemodel.isHdf5(file)) {
      return Hdf5Caffemodel.read(file);
    }
    NetParameter.Builder b = NetParameter.newBuilder();
    read(file, b);
    return Upgrade.net(b.build(), file.toString());
  }

  public static NetParameter parseNet(byte[] bytes, String name) {
    try {
      return Upgrade.net(NetParameter.parseFrom(bytes), name);
    } catch (IOException e) {
      throw new ProtoFormatException(name + ": not a binary NetParameter (.caffemodel): " + e.getMessage(), e);
    }
  }

  public static SolverState readSolverState(Path file) {
    SolverState.Builder b = SolverState.newBuilder();
    read(file, b);
    return b.build();
  }

  private static void read(Path file, Message.Builder builder) {
    try (InputStream in = Files.newInputStream(file)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(Integer.MAX_VALUE);
      builder.mergeFrom(coded);
    } catch (NoSuchFileException e) {
      throw new ProtoFormatException(file + ": no such file (paths are relative to the working"
          + " directory " + Path.of("").toAbsolutePath() + ")");
    } catch (IOException e) {
      throw new ProtoFormatException(file + ": not a binary " + builder.getDescriptorForType().getName()
          + ": " + e.getMessage(), e);
    }
  }

  /** Writes through a temporary file and a rename, so a reader never sees half a file. */
  public static void write(Message message, Path file) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      try (OutputStream out = Files.newOutputStream(tmp)) {
        message.writeTo(out);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ProtoFormatException(file + ": cannot write: " + e.getMessage(), e);
    }
  }
}
