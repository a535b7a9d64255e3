package crema.visualizer;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.util.Map;

/**
 * Headers on every response: a Content-Security-Policy that lets the page run only its own scripts
 * (no inline script, no eval, nothing from elsewhere), so a name that slipped through escaping
 * still could not run; no MIME sniffing; no framing.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.visualizer", notEquals = "false")
@ServerFilter("/**")
public class SecurityHeaders {
  static final Map<String, String> HEADERS = Map.of(
      "Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
          + " img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none';"
          + " frame-ancestors 'none'; form-action 'self'",
      "X-Content-Type-Options", "nosniff",
      "X-Frame-Options", "DENY",
      "Referrer-Policy", "no-referrer");

  @ResponseFilter
  public void addHeaders(MutableHttpResponse<?> response) {
    HEADERS.forEach((k, v) -> response.getHeaders().set(k, v));
  }
}
