package crema.bus;

import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The optional API token of every service ({@code crema.api.token}, environment
 * {@code CREMA_API_TOKEN}). Unset, nothing is asked. Set, every endpoint but {@code /health} needs
 * {@code Authorization: Bearer <token>}; a browser opens the dashboard once with
 * {@code ?token=<token>}, which is swapped for an HttpOnly, SameSite=Strict cookie (server push
 * cannot send headers). Tokens are compared in constant time.
 */
@ServerFilter("/**")
@Requires(beans = KafkaClients.class)
public class ApiToken {
  public static final String COOKIE = "crema_token";

  private final byte[] token;

  public ApiToken(@Value("${crema.api.token:}") String token) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
  }

  @RequestFilter
  @Nullable
  public HttpResponse<?> check(HttpRequest<?> request) {
    String path = request.getPath();
    if (token.length == 0 || path.equals("/health") || path.startsWith("/health/")) {
      return null;
    }
    String auth = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
    if (auth != null && auth.startsWith("Bearer ") && matches(auth.substring("Bearer ".length()).trim())) {
      return null;
    }
    var cookie = request.getCookies().findCookie(COOKIE);
    if (cookie.isPresent() && matches(cookie.get().getValue())) {
      return null;
    }
    String query = request.getParameters().get("token");
    if (query != null && request.getMethod() == HttpMethod.GET && matches(query)) {
      return HttpResponse.seeOther(URI.create(path)).cookie(Cookie.of(COOKIE, query).httpOnly(true)
          .sameSite(SameSite.Strict).path("/"));
    }
    return HttpResponse.status(HttpStatus.UNAUTHORIZED).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"crema\"")
        .body(Map.of("error", "this service needs its API token: Authorization: Bearer <token> (crema.api.token)"));
  }

  private boolean matches(String given) {
    return MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
  }
}
