package crema.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A request body read ahead on a thread of its own, up to {@code blocks} blocks, so that the
 * request's thread (which splits lines, hands chunks to the parse threads and sends) never waits
 * for the network while there is work in hand. Without it, the request's thread asked the HTTP
 * server for the next piece of the body only when it had used the last, and then waited for it:
 * about a fifth of an upload's time on two cores.
 *
 * <p>{@link #close()} stops the reader and waits for its read in progress, and leaves the body
 * open: a refused upload's rest is then read off the body by the controller alone.
 */
final class BodyReadAhead extends InputStream {
  private static final byte[] END = new byte[0];

  private final InputStream body;
  private final BlockingQueue<Object> blocks;
  private final Future<?> reader;
  private volatile boolean closed;
  private byte[] current = new byte[0];
  private int pos;
  private boolean ended;

  BodyReadAhead(InputStream body, ExecutorService pool, int blockSize, int blocks) {
    this.body = body;
    this.blocks = new ArrayBlockingQueue<>(Math.max(1, blocks));
    this.reader = pool.submit(() -> {
      try {
        while (!closed) {
          byte[] block = new byte[blockSize];
          int n = body.read(block, 0, blockSize);
          if (n < 0) {
            this.blocks.put(END);
            return;
          }
          if (n > 0) {
            this.blocks.put(n == blockSize ? block : Arrays.copyOf(block, n));
          }
        }
      } catch (IOException | RuntimeException e) {
        offer(e);
      } catch (InterruptedException e) {
        // Closed while waiting for room: nobody reads on.
      }
    });
  }

  /** Hands the reader's failure to the request's thread, unless the request has gone. */
  private void offer(Exception e) {
    try {
      while (!closed && !blocks.offer(e, 100, TimeUnit.MILLISECONDS)) {
        // The queue is full of blocks the request's thread has yet to take.
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether a block is in hand; false at the end of the body. */
  private boolean next() throws IOException {
    while (pos == current.length) {
      if (ended) {
        return false;
      }
      Object o;
      try {
        o = blocks.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading the body");
      }
      if (o instanceof IOException e) {
        throw e;
      }
      if (o instanceof RuntimeException e) {
        throw e;
      }
      current = (byte[]) o;
      pos = 0;
      if (current == END) {
        ended = true;
      }
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    return next() ? current[pos++] & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!next()) {
      return -1;
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    pos += n;
    return n;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    // Room for the reader's last block, so it is not left waiting to put it.
    blocks.clear();
    try {
      reader.get(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // The client has stopped sending mid-body: the reader stays blocked in its read until the
      // connection closes; the request ends without it.
      reader.cancel(true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
      // Its failure was handed over, or nobody asked for it.
    }
    blocks.clear();
  }
}
