package crema.bus;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The checksum a Checkpoint carries: hex sha256 of its caffemodel bytes, then its solverstate bytes. */
public final class CheckpointDigest {
  private CheckpointDigest() {}

  public static String sha256(byte[] caffemodel, byte[] solverstate) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(caffemodel);
      d.update(solverstate);
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
