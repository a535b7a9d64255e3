package crema.ingest;

import crema.engine.csv.CsvLines;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The lines of a streamed CSV body, each turned into a {@code T} on a pool of threads, handed back
 * in line order. The body is read on the caller's thread, {@code chunkLines} lines at a time; at
 * most {@code window} chunks are read ahead, so memory stays bounded however long the body is.
 *
 * <p>Why chunks: parsing a row (93 numbers, a log each, a Datum) costs a few microseconds, about
 * what handing one task to a pool costs; a chunk of hundreds of lines makes the hand-off negligible.
 * Why in order: row ids, keys, the stratified split and the dead-letter line numbers must be what
 * a sequential pass gives, so everything that depends on order stays on the caller's thread.
 */
final class ParallelRows<T> implements AutoCloseable {
  /** Turns one line into a result; runs on a pool thread, so it must not touch shared state. */
  @FunctionalInterface
  interface LineParser<T> {
    T parse(byte[] line, long lineNumber);
  }

  private final CsvLines lines;
  private final ExecutorService pool;
  private final int chunkLines;
  private final int window;
  /** Called on the caller's thread for each chunk before it is handed out (a snapshot of the labels so far). */
  private final Supplier<LineParser<T>> parserForNextChunk;
  private final Deque<Future<List<T>>> inFlight = new ArrayDeque<>();
  private Iterator<T> current = List.<T>of().iterator();
  private boolean bodyDone;
  /**
   * Whether the first chunk has come back. Until then only it is in flight: its rows meet the
   * body's labels first, and chunks handed out after it know them (see DatasetIngest's Deferred).
   */
  private boolean firstDone;

  ParallelRows(CsvLines lines, ExecutorService pool, int chunkLines, int window,
      Supplier<LineParser<T>> parserForNextChunk) {
    this.lines = lines;
    this.pool = pool;
    this.chunkLines = Math.max(1, chunkLines);
    this.window = Math.max(1, window);
    this.parserForNextChunk = parserForNextChunk;
  }

  /** The next line's result, in line order; null after the last line. */
  T next() throws IOException {
    while (!current.hasNext()) {
      fill();
      Future<List<T>> head = inFlight.poll();
      if (head == null) {
        return null;
      }
      current = await(head).iterator();
      firstDone = true;
    }
    return current.next();
  }

  /** Reads chunks until {@code window} are in flight or the body ends. */
  private void fill() throws IOException {
    while (!bodyDone && inFlight.size() < (firstDone ? window : 1)) {
      List<byte[]> chunk = new ArrayList<>(chunkLines);
      long first = -1;
      byte[] line;
      while (chunk.size() < chunkLines && (line = lines.next()) != null) {
        if (first < 0) {
          first = lines.lineNumber();
        }
        chunk.add(line);
      }
      if (chunk.isEmpty()) {
        bodyDone = true;
        return;
      }
      LineParser<T> parser = parserForNextChunk.get();
      long firstLine = first;
      inFlight.add(pool.submit(() -> {
        List<T> out = new ArrayList<>(chunk.size());
        for (int i = 0; i < chunk.size(); i++) {
          out.add(parser.parse(chunk.get(i), firstLine + i));
        }
        return out;
      }));
    }
  }

  private static <T> List<T> await(Future<List<T>> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while parsing rows", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Drops the chunks still in flight (a request that failed part-way). */
  @Override
  public void close() {
    inFlight.forEach(f -> f.cancel(true));
    inFlight.clear();
  }
}
