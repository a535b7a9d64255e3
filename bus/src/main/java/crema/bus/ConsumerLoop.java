package crema.bus;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's consumer work on a daemon thread, kept going for as long as the service lives: the
 * work gets a fresh consumer; when it fails (the broker went away, a topic was recreated) the
 * consumer is closed, the failure logged and handed to {@code onFailure}, and after a second the
 * work starts again with a new consumer. {@link #close} stops it.
 */
public final class ConsumerLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

  /** One connection's work: runs while {@code running} is true; throwing ends the connection. */
  public interface Work {
    void run(KafkaConsumer<String, byte[]> consumer, BooleanSupplier running) throws InterruptedException;
  }

  private final String name;
  private final Supplier<KafkaConsumer<String, byte[]>> open;
  private final Work work;
  private final Consumer<RuntimeException> onFailure;
  private final Thread thread;
  private volatile boolean running = true;

  private ConsumerLoop(String name, Supplier<KafkaConsumer<String, byte[]>> open, Work work,
      Consumer<RuntimeException> onFailure) {
    this.name = name;
    this.open = open;
    this.work = work;
    this.onFailure = onFailure;
    this.thread = new Thread(this::loop, name);
    thread.setDaemon(true);
  }

  /** Starts {@code work} on a daemon thread named {@code name}. */
  public static ConsumerLoop start(String name, Supplier<KafkaConsumer<String, byte[]>> open, Work work) {
    return start(name, open, work, e -> {});
  }

  /** As {@link #start(String, Supplier, Work)}; {@code onFailure} runs before each reconnection. */
  public static ConsumerLoop start(String name, Supplier<KafkaConsumer<String, byte[]>> open, Work work,
      Consumer<RuntimeException> onFailure) {
    ConsumerLoop loop = new ConsumerLoop(name, open, work, onFailure);
    loop.thread.start();
    return loop;
  }

  private void loop() {
    while (running) {
      try (KafkaConsumer<String, byte[]> c = open.get()) {
        work.run(c, () -> running);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.warn("{}: {}; reconnecting", name, e.toString());
        onFailure.accept(e);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** Stops the work and waits up to 5 s for its current poll to end. */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
