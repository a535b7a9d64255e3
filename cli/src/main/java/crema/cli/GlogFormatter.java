package crema.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Log lines in glog's shape, {@code I1128 13:55:55.123456 12345 solver.cpp:218] message}, so that
 * Caffe's tools (parse_log.py, extract_seconds.py) read Crema's logs as they read Caffe's.
 */
final class GlogFormatter extends Formatter {
  private static final long PID = ProcessHandle.current().pid();

  @Override
  public String format(LogRecord r) {
    ZonedDateTime t = ZonedDateTime.ofInstant(Instant.ofEpochMilli(r.getMillis()), ZoneId.systemDefault());
    long micros = r.getInstant().getNano() / 1000;
    char severity = r.getLevel().intValue() >= Level.SEVERE.intValue() ? 'E'
        : r.getLevel().intValue() >= Level.WARNING.intValue() ? 'W' : 'I';
    String source = r.getSourceClassName() == null ? "crema"
        : r.getSourceClassName().substring(r.getSourceClassName().lastIndexOf('.') + 1);
    String msg = formatMessage(r);
    return String.format("%c%02d%02d %02d:%02d:%02d.%06d %5d %s.java:0] %s%n", severity,
        t.getMonthValue(), t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond(), micros,
        PID, source, msg);
  }
}
