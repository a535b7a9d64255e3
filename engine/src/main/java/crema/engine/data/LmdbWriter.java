package crema.engine.data;

import crema.engine.DataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/**
 * Writes records into a new LMDB as Caffe's tools do: a directory holding data.mdb, records put in
 * batches of 1000 per transaction. The map is sized at 1 TiB of address space up front (data.mdb
 * grows only as records are written), so it does not fill where Caffe would double it.
 */
public final class LmdbWriter implements AutoCloseable {
  private static final int COMMIT_EVERY = 1000;

  private final Path dir;
  private static final long MAP_SIZE = 1L << 40;
  private Env<ByteBuffer> env;
  private Dbi<ByteBuffer> dbi;
  private Txn<ByteBuffer> txn;
  private int pending;
  private long count;
  private ByteBuffer key = ByteBuffer.allocateDirect(64);
  private ByteBuffer value = ByteBuffer.allocateDirect(1 << 12);

  public LmdbWriter(Path dir) {
    this.dir = dir;
    try {
      if (Files.exists(dir.resolve("data.mdb"))) {
        throw new DataException("LMDB '" + dir + "' already exists; remove it or choose another path");
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new DataException("cannot create LMDB directory '" + dir + "': " + e.getMessage(), e);
    }
    env = Env.create().setMapSize(MAP_SIZE).setMaxDbs(1).open(dir.toFile());
    dbi = env.openDbi((byte[]) null, DbiFlags.MDB_CREATE);
  }

  /** Puts one record; keys are written as given (Caffe pads numbers: "%08d"). */
  public void put(String k, byte[] v) {
    byte[] kb = k.getBytes(StandardCharsets.US_ASCII);
    if (key.capacity() < kb.length) {
      key = ByteBuffer.allocateDirect(kb.length);
    }
    if (value.capacity() < v.length) {
      value = ByteBuffer.allocateDirect(Math.max(v.length, value.capacity() * 2));
    }
    key.clear();
    key.put(kb).flip();
    value.clear();
    value.put(v).flip();
    if (txn == null) {
      txn = env.txnWrite();
    }
    dbi.put(txn, key, value);
    count++;
    if (++pending >= COMMIT_EVERY) {
      commit();
    }
  }

  private void commit() {
    if (txn != null) {
      txn.commit();
      txn.close();
      txn = null;
      pending = 0;
    }
  }

  public long count() {
    return count;
  }

  @Override
  public void close() {
    try {
      commit();
    } finally {
      env.close();
    }
  }
}
