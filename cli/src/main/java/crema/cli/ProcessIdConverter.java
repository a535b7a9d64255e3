package crema.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %pid} in the CLI's logback pattern: the third field of a glog line. glog prints the
 * thread id there; Crema prints the process id, which Caffe's log parsers skip all the same and
 * which tells apart the logs of runs started side by side. logback has no converter of its own
 * for it.
 */
public final class ProcessIdConverter extends ClassicConverter {
  private static final String PID = Long.toString(ProcessHandle.current().pid());

  @Override
  public String convert(ILoggingEvent event) {
    return PID;
  }
}
