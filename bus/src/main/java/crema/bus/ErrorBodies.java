package crema.bus;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every error of every service has one shape, {@code {"error": "<message>"}}, Micronaut's own
 * ones too (a malformed JSON body, 404, 405, 415, 413, a query value that does not convert, an
 * unhandled exception): Micronaut's default body (with {@code _links}, {@code _embedded} and
 * parser internals) is replaced here. A malformed JSON body is reported with its line and column.
 */
@Singleton
@Replaces(ErrorResponseProcessor.class)
@Requires(classes = ErrorResponseProcessor.class)
public class ErrorBodies implements ErrorResponseProcessor<Map<String, String>> {
  /** Jackson's "at [Source: ...; line: 1, column: 12]". */
  private static final Pattern LOCATION = Pattern.compile("line: (\\d+), column: (\\d+)");
  /** A class name in front of a message: "com.fasterxml.jackson.core.JsonParseException: ". */
  private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error):\\s*");

  @Override
  @SuppressWarnings("unchecked")
  public MutableHttpResponse<Map<String, String>> processResponse(ErrorContext context,
      MutableHttpResponse<?> response) {
    if (context.getRequest().getMethod() == HttpMethod.HEAD) {
      return (MutableHttpResponse<Map<String, String>>) response;
    }
    return ((MutableHttpResponse<Map<String, String>>) response).body(Map.of("error", message(context, response)))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  /** The message of an error: where a JSON body is malformed, else Micronaut's messages. */
  static String message(ErrorContext context, HttpResponse<?> response) {
    Throwable json = context.getRootCause().map(ErrorBodies::jsonCause).orElse(null);
    if (json != null) {
      return malformedJson(json.getMessage());
    }
    Set<String> messages = new LinkedHashSet<>();
    for (Error e : context.getErrors()) {
      if (e.getMessage() != null && !e.getMessage().isBlank()) {
        messages.add(clean(e.getMessage()));
      }
    }
    if (response.code() == 404 && (messages.isEmpty() || messages.equals(Set.of("Page Not Found")))) {
      // Micronaut's words for a route that does not exist: say which.
      return "no route " + context.getRequest().getMethodName() + " " + context.getRequest().getPath();
    }
    if (!messages.isEmpty()) {
      return String.join("; ", messages);
    }
    String reason = response.reason();
    return reason == null || reason.isBlank() ? "HTTP " + response.code() : reason;
  }

  /** The exception of a body that is not JSON (Jackson's, Micronaut's JsonSyntaxException), if any. */
  private static Throwable jsonCause(Throwable t) {
    for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause()) {
      String name = t.getClass().getName();
      if (name.equals("io.micronaut.json.JsonSyntaxException") || name.endsWith("JsonParseException")
          || name.endsWith("JsonEOFException")) {
        return t;
      }
    }
    return null;
  }

  /** "malformed JSON at line 1, column 12: Unexpected character ('}' ...)", without the parser's internals. */
  static String malformedJson(String raw) {
    String text = raw == null ? "" : raw;
    Matcher at = LOCATION.matcher(text);
    String where = at.find() ? " at line " + at.group(1) + ", column " + at.group(2) : "";
    String first = clean(text.lines().findFirst().orElse("")).strip();
    int src = first.indexOf(" at [Source");
    if (src >= 0) {
      first = first.substring(0, src).strip();
    }
    first = first.replaceFirst("^Error decoding JSON stream for type \\[[^]]*]:\\s*", "");
    return "malformed JSON" + where + (first.isEmpty() ? "" : ": " + first);
  }

  private static String clean(String message) {
    return CLASS_NAME.matcher(message).replaceAll("");
  }
}
