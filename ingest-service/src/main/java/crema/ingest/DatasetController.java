package crema.ingest;

import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/datasets/{name}/rows}: a CSV body with a header, streamed (never buffered whole)
 * into the dataset's topics. The reply gives accepted and rejected counts and the first reasons.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.ingest", notEquals = "false")
@Controller("/v1/datasets")
@ExecuteOn(TaskExecutors.BLOCKING)
public class DatasetController {
  private final DatasetIngest ingest;

  public DatasetController(DatasetIngest ingest) {
    this.ingest = ingest;
  }

  @Post(value = "/{name}/rows", consumes = {"text/csv", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  public HttpResponse<?> rows(@PathVariable String name, @Nullable @QueryValue String label,
      @Nullable @QueryValue String id, @Nullable @QueryValue Boolean log1p, @Nullable @QueryValue String split,
      @Nullable @QueryValue("test_fraction") Double testFraction, @Nullable @QueryValue Long seed,
      @Nullable @QueryValue String labels, @Nullable @QueryValue String source, @Nullable @QueryValue String shape,
      @Body InputStream body) {
    try {
      List<String> labelList = labelList(labels);
      var request = new DatasetIngest.Request(name, source == null ? "http:" + name : source, label, id,
          Boolean.TRUE.equals(log1p), split, testFraction == null ? 0 : testFraction, seed == null ? 0 : seed,
          labelList, shape(shape));
      // The body stays open after a refusal, so that what is left of it can be read off.
      return HttpResponse.ok(ingest.ingest(request, new FilterInputStream(body) {
        @Override
        public void close() {}
      }));
    } catch (IllegalArgumentException e) {
      return refused(HttpResponse.badRequest(Map.of("error", e.getMessage())), body);
    } catch (IllegalStateException e) {
      return refused(HttpResponse.serverError(Map.of("error", e.getMessage())), body);
    } catch (IOException e) {
      return refused(HttpResponse.badRequest(Map.of("error", "cannot read the body: " + e.getMessage())), body);
    }
  }

  /**
   * {@code POST /v1/datasets/{name}/images}: a zip or tar of PNG/JPEG files, labels from folder
   * names or from the archive's list file ({@code list=}), as uint8 image Datums (or the encoded
   * files with {@code encoded=true}); convert_imageset's flags as query parameters.
   */
  @Post(value = "/{name}/images", consumes = {"application/zip", "application/x-zip-compressed", "application/x-tar",
      MediaType.APPLICATION_OCTET_STREAM})
  public HttpResponse<?> images(@PathVariable String name, @Nullable @QueryValue String list,
      @Nullable @QueryValue Boolean gray, @Nullable @QueryValue("resize_height") Integer resizeHeight,
      @Nullable @QueryValue("resize_width") Integer resizeWidth, @Nullable @QueryValue Boolean encoded,
      @Nullable @QueryValue("encode_type") String encodeType, @Nullable @QueryValue String split,
      @Nullable @QueryValue("test_fraction") Double testFraction, @Nullable @QueryValue Long seed,
      @Nullable @QueryValue String labels, @Nullable @QueryValue String source, @Body InputStream body) {
    try {
      var request = new DatasetIngest.Request(name, source == null ? "http:" + name : source, null, null, false,
          split, testFraction == null ? 0 : testFraction, seed == null ? 0 : seed, labelList(labels));
      var options = new DatasetIngest.ImageOptions(list, Boolean.TRUE.equals(gray),
          resizeHeight == null ? 0 : resizeHeight, resizeWidth == null ? 0 : resizeWidth,
          Boolean.TRUE.equals(encoded) || (encodeType != null && !encodeType.isBlank()), encodeType);
      return HttpResponse.ok(ingest.ingestImages(request, options, new FilterInputStream(body) {
        @Override
        public void close() {}
      }));
    } catch (IllegalArgumentException e) {
      return refused(HttpResponse.badRequest(Map.of("error", e.getMessage())), body);
    } catch (IllegalStateException e) {
      return refused(HttpResponse.serverError(Map.of("error", e.getMessage())), body);
    } catch (IOException e) {
      return refused(HttpResponse.badRequest(Map.of("error", "cannot read the body: " + e.getMessage())), body);
    }
  }

  private static List<String> labelList(String labels) {
    return labels == null || labels.isBlank() ? List.of()
        : Arrays.stream(labels.split(",")).map(String::strip).toList();
  }

  /** {@code shape=C,H,W}, or null. */
  private static int[] shape(String shape) {
    if (shape == null || shape.isBlank()) {
      return null;
    }
    try {
      int[] s = Arrays.stream(shape.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
      if (s.length != 3 || s[0] <= 0 || s[1] <= 0 || s[2] <= 0) {
        throw new NumberFormatException();
      }
      return s;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("shape takes C,H,W: three positive sizes, got '" + shape + "'");
    }
  }

  /** Up to this much of a refused upload is read and dropped, so the connection can serve the next request. */
  private static final long DRAIN_BYTES = 64L << 20;

  /**
   * A request refused before its body was read (a header that contradicts the dataset, say): the
   * rest of the body is still on the wire, and a keep-alive client sends its next request behind
   * it. Reading it off keeps the two apart; past {@link #DRAIN_BYTES} the connection is closed
   * instead.
   */
  private static MutableHttpResponse<?> refused(MutableHttpResponse<?> response, InputStream body) {
    try {
      long left = DRAIN_BYTES;
      byte[] buffer = new byte[64 << 10];
      int n;
      while (left > 0 && (n = body.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
        left -= n;
      }
      if (left > 0) {
        return response;
      }
    } catch (IOException e) {
      // The body is gone: nothing more to read.
    }
    return response.header(HttpHeaders.CONNECTION, "close");
  }
}
