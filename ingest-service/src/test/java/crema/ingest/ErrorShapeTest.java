package crema.ingest;

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
    String m = error("GET", "/v1/datasets/d/rows", null, null, 405);
    assertTrue(m.contains("not allowed"), m);
  }

  @Test
  void aJsonBodyWhereCsvIsExpectedIsA415WithAnError() throws Exception {
    String m = error("POST", "/v1/datasets/d/rows", "application/json", "{\"a\": ", 415);
    assertTrue(m.contains("application/json"), m);
  }

  @Test
  void aQueryValueThatDoesNotConvertIsA400NamingIt() throws Exception {
    String m = error("POST", "/v1/datasets/d/rows?test_fraction=lots", "text/csv", "a,b\n1,2\n", 400);
    assertTrue(m.contains("lots"), m);
  }

  @Test
  void aRefusedUploadLeavesTheConnectionFitForTheNextRequest() throws Exception {
    StringBuilder csv = new StringBuilder("a,b,label\n");
    for (int i = 0; i < 20_000; i++) {
      csv.append(i).append(',').append(i % 7).append(",x\n");
    }
    assertEquals(200, service.send("POST", "/v1/datasets/keepalive/rows?label=label", "text/csv", "a,b,label\n1,2,x\n")
        .statusCode());
    // Refused on its options before a byte of its 200 kB is read: the rest must not be taken for
    // the next request on the same keep-alive connection.
    String m = error("POST", "/v1/datasets/keepalive/rows?label=label&log1p=true", "text/csv", csv.toString(), 400);
    assertTrue(m.contains("log1p"), m);
    var next = service.send("POST", "/v1/datasets/keepalive/rows?label=label", "text/csv", "a,b,label\n3,4,x\n");
    assertEquals(200, next.statusCode(), next.body());
  }
}
