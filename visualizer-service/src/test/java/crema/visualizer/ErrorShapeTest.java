package crema.visualizer;

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
    service = ErrorReplies.start(Map.of("crema.visualizer.inference-url", "http://127.0.0.1:9"));
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
    String m = error("DELETE", "/api/overview", null, null, 405);
    assertTrue(m.contains("not allowed"), m);
  }

  @Test
  void aJsonBodyWhereCsvIsExpectedIsA415WithAnError() throws Exception {
    String m = error("POST", "/api/models/m/predict", "application/json", "{\"a\": ", 415);
    assertTrue(m.contains("application/json"), m);
  }
}
