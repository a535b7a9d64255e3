package crema.bus;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** Admin calls on a topic created a moment ago. */
final class FreshTopics {
  private FreshTopics() {}

  /**
   * {@code call}'s answer once the broker it reaches knows the topic: one created a moment ago
   * reaches a broker's metadata a little later (on a cluster, another node's), as TopicSetup itself
   * allows for.
   */
  static <T> T known(Callable<T> call) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try {
        return call.call();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }
}
