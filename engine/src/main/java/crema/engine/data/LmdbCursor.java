package crema.engine.data;

import caffe.Caffe.DataParameter;
import caffe.Caffe.Datum;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.engine.DataException;
import java.io.File;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * Reads an LMDB of serialised Datum records in key order (LMDB's own lexicographic order, which
 * is why Caffe pads keys with zeros), wrapping to the first record after the last. The database
 * is opened read-only; a directory that cannot hold a lock file is opened without one, as Caffe
 * does with ALLOW_LMDB_NOLOCK.
 *
 * <p>The position is kept apart from where the LMDB cursor stands, which follows only when a record
 * is read: {@link #skip()} (a reader that kept the record decoded) and {@link #seek} cost nothing
 * until then.
 */
public final class LmdbCursor implements DatumCursor {
  private static final System.Logger LOG = System.getLogger(LmdbCursor.class.getName());

  private final String source;
  private final Env<ByteBuffer> env;
  private final Txn<ByteBuffer> txn;
  private final Cursor<ByteBuffer> cursor;
  private final long entries;
  private long position;
  /** The index (0 … entries−1, in key order) of the record the LMDB cursor stands on. */
  private long at;

  private LmdbCursor(String source, Env<ByteBuffer> env) {
    this.source = source;
    this.env = env;
    Dbi<ByteBuffer> dbi = env.openDbi((byte[]) null);
    this.txn = env.txnRead();
    this.cursor = dbi.openCursor(txn);
    this.entries = dbi.stat(txn).entries;
    if (entries == 0 || !cursor.first()) {
      close();
      throw new DataException("LMDB '" + source + "' holds no records");
    }
    LOG.log(Level.INFO, "Opened lmdb " + source + " (" + entries + " records)");
  }

  /** Opens {@code param.source}, a directory holding data.mdb, relative to the working directory. */
  public static LmdbCursor open(DataParameter param) {
    return open(param.getSource());
  }

  public static LmdbCursor open(String source) {
    File dir = new File(source);
    if (!Files.isRegularFile(Path.of(source, "data.mdb"))) {
      throw new DataException("LMDB '" + source + "' not found: no data.mdb in "
          + dir.getAbsoluteFile() + " (paths are relative to the working directory, as in Caffe)");
    }
    Env<ByteBuffer> env;
    try {
      env = Env.create().setMaxReaders(126).open(dir, EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOTLS);
    } catch (LmdbException e) {
      try {
        env = Env.create().open(dir, EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOLOCK);
      } catch (LmdbException e2) {
        throw new DataException("cannot open LMDB '" + source + "': " + e2.getMessage(), e2);
      }
    }
    return new LmdbCursor(source, env);
  }

  /** The number of records in the database. */
  public long size() {
    return entries;
  }

  /** Moves the LMDB cursor onto the record at {@link #position}. */
  private void follow() {
    long want = position % entries;
    if (want == at) {
      return;
    }
    if (want < at) {
      LOG.log(Level.DEBUG, "Restarting data prefetching from start.");
      cursor.first();
      at = 0;
    }
    for (; at < want; at++) {
      cursor.next();
    }
  }

  @Override
  public synchronized Datum peek() {
    follow();
    return parse(cursor.val());
  }

  /** The value in LMDB's memory map, read-only; valid while this cursor is open. */
  @Override
  public synchronized ByteBuffer peekBytes() {
    follow();
    return cursor.val().asReadOnlyBuffer();
  }

  @Override
  public synchronized void skip() {
    position++;
  }

  @Override
  public synchronized long recordKey() {
    return position % entries;
  }

  private Datum parse(ByteBuffer value) {
    try {
      return Datum.parseFrom(value.duplicate());
    } catch (InvalidProtocolBufferException e) {
      throw new DataException("LMDB '" + source + "', key '" + key() + "': the value is not a Datum: "
          + e.getMessage(), e);
    }
  }

  @Override
  public synchronized Datum next() {
    follow();
    Datum d = parse(cursor.val());
    position++;
    return d;
  }

  @Override
  public synchronized long position() {
    return position;
  }

  @Override
  public synchronized void seek(long target) {
    if (target < 0) {
      throw new IllegalArgumentException("negative cursor position " + target);
    }
    position = target;
  }

  @Override
  public synchronized String key() {
    follow();
    ByteBuffer k = cursor.key().duplicate();
    byte[] b = new byte[k.remaining()];
    k.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public synchronized void close() {
    try {
      cursor.close();
      txn.close();
    } finally {
      env.close();
    }
  }
}
