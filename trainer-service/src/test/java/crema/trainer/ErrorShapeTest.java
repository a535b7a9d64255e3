package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import crema.bus.ErrorReplies;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every error of the service, Micronaut's own ones too, is {@code {"error": "<message>"}} and nothing else. */
class ErrorShapeTest {
  static ErrorReplies service;

  @BeforeAll
  static void start() {
    service = ErrorReplies.start(Map.of());
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static String error(String method, String path, String contentType, String body, int status) throws Exception {
    return service.error(method, path, contentType, body, status);
  }

  @Test
  void anUnknownRouteIsA404WithAnError() throws Exception {
    String m = error("GET", "/no/such/route", null, null, 404);
    assertEquals("no route GET /no/such/route", m);
  }

  @Test
  void aWrongMethodIsA405WithAnError() throws Exception {
    String m = error("DELETE", "/v1/jobs", null, null, 405);
    assertTrue(m.contains("not allowed"), m);
  }

  @Test
  void aMalformedJsonBodyIsA400SayingWhere() throws Exception {
    String m = error("POST", "/v1/jobs", "application/json", "{\"model\": \"m\",\n \"solver\": }", 400);
    assertTrue(m.startsWith("malformed JSON at line 2, column"), m);
    assertTrue(!m.contains("Source") && !m.contains("jackson"), m);
  }

  @Test
  void aWrongContentTypeIsA415WithAnError() throws Exception {
    String m = error("POST", "/v1/jobs", "text/csv", "a,b", 415);
    assertTrue(m.contains("text/csv"), m);
  }
}
