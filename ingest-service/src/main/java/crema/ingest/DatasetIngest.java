package crema.ingest;

import caffe.Caffe.Datum;
import crema.bus.KafkaClients;
import crema.bus.TopicKind;
import crema.bus.TopicLog;
import crema.bus.TopicSetup;
import crema.bus.Topics;
import crema.engine.csv.CsvConverter;
import crema.engine.csv.CsvLines;
import crema.engine.csv.CsvRow;
import crema.engine.csv.CsvSchema;
import crema.engine.csv.RowParser;
import crema.engine.csv.RowRejectedException;
import crema.engine.data.ImageDatums;
import crema.proto.ClassCounts;
import crema.proto.DatasetSchema;
import crema.proto.DeadLetter;
import crema.proto.FeatureStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Requires;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams CSV rows of one request into Kafka: each accepted row as a Datum on
 * {@code crema.datums.<dataset>.<split>} (key = row id), each rejected row with its line and reason
 * on {@code crema.dead-letter}, and the dataset's schema (labels, counts, feature statistics) on
 * {@code crema.datasets}. Conversion and validation are {@code crema convert}'s.
 */
// Off when crema up runs this service beside the others in one process and this context is another's.
@Requires(property = "crema.services.ingest", notEquals = "false")
@Singleton
public class DatasetIngest {
  private static final Logger LOG = LoggerFactory.getLogger(DatasetIngest.class);

  /** What a request asks for; see the controller's query parameters. */
  @Serdeable
  public record Request(String dataset, String source, String labelColumn, String idColumn, boolean log1p,
      String split, double testFraction, long seed, List<String> labels, int[] shape) {
    /** A request whose rows are features (no {@code shape}). */
    public Request(String dataset, String source, String labelColumn, String idColumn, boolean log1p, String split,
        double testFraction, long seed, List<String> labels) {
      this(dataset, source, labelColumn, idColumn, log1p, split, testFraction, seed, labels, null);
    }
  }

  /** The reply: counts and the first reasons. */
  @Serdeable
  public record Result(String dataset, long received, long accepted, long rejected, Map<String, Long> perSplit,
      List<String> labels, List<String> firstReasons) {}

  private final KafkaProducer<String, byte[]> producer;
  private final IngestConfig config;
  private final MeterRegistry meters;
  private final Timer producerLatency;
  /**
   * One record in this many is timed for {@link #producerLatency}: the histogram's update runs on
   * the producer's one network thread, which every record's acknowledgement passes through.
   */
  private static final int LATENCY_SAMPLE = 64;
  /** A record batch's header and one record's framing around key and value, rounded up. */
  private static final int RECORD_OVERHEAD_BYTES = 128;
  private final AtomicLong sent = new AtomicLong();
  private final KafkaClients clients;
  /**
   * Each dataset's schema as this service last wrote it, read from {@code crema.datasets} on first
   * use: a request adds to it, so a dataset ingested by several requests has one schema.
   */
  private final Map<String, DatasetSchema> schemas = new ConcurrentHashMap<>();
  /** One request at a time per dataset: each reads the schema, adds to it and writes it back. */
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  /** Creates and checks each topic before its first write (crema.datums.<dataset>.<split> are new) (crema.topics.*). */
  @jakarta.inject.Inject
  TopicSetup topics;

  /** Parses and validates rows in parallel (see {@link ParallelRows}); shared by all requests. */
  private final ExecutorService parsePool;
  /** Reads each request's body ahead of its thread (see {@link BodyReadAhead}): one thread per upload in progress. */
  private final ExecutorService bodyPool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "ingest-body");
    t.setDaemon(true);
    return t;
  });

  public DatasetIngest(@jakarta.inject.Named("upload") KafkaProducer<String, byte[]> producer, IngestConfig config,
      MeterRegistry meters, KafkaClients clients) {
    this.producer = producer;
    AtomicInteger n = new AtomicInteger();
    this.parsePool = Executors.newFixedThreadPool(Math.max(1, config.getParseThreads()), r -> {
      Thread t = new Thread(r, "ingest-parse-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.config = config;
    this.clients = clients;
    this.meters = meters;
    this.producerLatency = Timer.builder("crema.ingest.producer.latency")
        .description("Time from handing a record to the Kafka producer to its acknowledgement (acks=all),"
            + " one record in " + LATENCY_SAMPLE)
        .publishPercentileHistogram().register(meters);
  }

  @PreDestroy
  void stop() {
    parsePool.shutdownNow();
    bodyPool.shutdownNow();
  }

  /** One line's outcome on a parse thread. */
  private sealed interface Parsed permits Accepted, Rejected, Deferred {
    byte[] line();
  }

  /**
   * A valid row, its Datum serialised on the parse thread, which also added its features to its
   * chunk's {@code moments} (the row's features array is the parser's own, reused for the next line).
   */
  private record Accepted(byte[] line, RowDatums.Row row, FeatureMoments moments) implements Parsed {}

  private record Rejected(byte[] line, RowRejectedException error) implements Parsed {}

  /**
   * A row whose label the parse thread's snapshot did not know: labels get indices in order of
   * first appearance, so a new one is given its index on the request's thread, in line order.
   */
  private record Deferred(byte[] line) implements Parsed {}

  /** Thrown by a parse thread's label index for a label its snapshot lacks; no stack trace, it is not an error. */
  private static final class LabelNotYetKnown extends RuntimeException {
    static final LabelNotYetKnown INSTANCE = new LabelNotYetKnown();

    private LabelNotYetKnown() {
      super(null, null, false, false);
    }
  }

  /**
   * One line parsed, its features added to {@code moments}; with a {@code shape} (C, H, W) its
   * features become a uint8 image Datum by {@code crema convert --shape}'s rule (a value that is no
   * pixel rejects the row). {@code fast} takes the plain lines; the others, and every line that may
   * be refused, go through {@code parser}, which names the reason.
   */
  private static Parsed parseOne(RowDatums fast, RowParser parser, byte[] line, long lineNumber, int[] shape,
      FeatureMoments moments) {
    try {
      RowDatums.Row row = fast.parse(line, lineNumber);
      if (row == null) {
        CsvRow parsed = parser.parse(line, lineNumber);
        Datum d = parsed.datum();
        float[] features = new float[d.getFloatDataCount()];
        for (int j = 0; j < features.length; j++) {
          features[j] = d.getFloatData(j);
        }
        if (shape != null) {
          d = CsvConverter.image(d, shape, parser.schema());
        }
        row = new RowDatums.Row(parsed.id(), parsed.label(), d.getLabel(), d.toByteArray(), features);
      }
      moments.add(row.features());
      return new Accepted(line, row, moments);
    } catch (RowRejectedException e) {
      return new Rejected(line, e);
    } catch (LabelNotYetKnown e) {
      return new Deferred(line);
    }
  }

  /**
   * A parser for one chunk on a parse thread: labels as known now (indices never change once
   * given); a label not among them is deferred, unless the request fixed the labels, in which case
   * it is unknown exactly as on the request's thread.
   */
  private static ChunkParser chunkParser(CsvSchema schema, List<String> labels, boolean fixed, boolean log1p,
      int maxLineBytes, int[] shape) {
    List<String> snapshot;
    synchronized (labels) {
      snapshot = List.copyOf(labels);
    }
    String known = String.valueOf(snapshot);
    RowParser.LabelIndex index = name -> {
      int i = snapshot.indexOf(name);
      if (i >= 0 || fixed) {
        return i;
      }
      throw LabelNotYetKnown.INSTANCE;
    };
    return new ChunkParser(new RowDatums(schema, index, log1p, maxLineBytes, shape),
        new RowParser(schema, index, () -> known, log1p, maxLineBytes), shape, new FeatureMoments(schema.featureCount()));
  }

  /** One chunk's parsers (fast and general, sharing the chunk's label snapshot) and its rows' moments. */
  private record ChunkParser(RowDatums fast, RowParser parser, int[] shape, FeatureMoments moments)
      implements ParallelRows.LineParser<Parsed> {
    @Override
    public Parsed parse(byte[] line, long lineNumber) {
      return parseOne(fast, parser, line, lineNumber, shape, moments);
    }
  }

  /** crema.ingest.rows{dataset, result, reason}: one counter per reason kind, never per value. */
  private Counter rows(String dataset, String result, String reason) {
    return Counter.builder("crema.ingest.rows")
        .description("CSV rows received, by result (accepted, rejected) and rejection reason")
        .tags("dataset", dataset, "result", result, "reason", reason).register(meters);
  }

  /** The dataset's schema so far: this service's last write, else the newest on the topic. */
  private Optional<DatasetSchema> known(String dataset) {
    DatasetSchema s = schemas.get(dataset);
    if (s == null) {
      s = TopicLog.datasetSchema(clients, Topics.DATASETS, dataset).orElse(null);
      if (s != null) {
        schemas.put(dataset, s);
      }
    }
    return Optional.ofNullable(s);
  }

  public Result ingest(Request r, InputStream body) throws IOException {
    Topics.checkName(r.dataset(), "dataset");
    Result result;
    long start = System.nanoTime();
    // When the last row was handed to the producer, and when the producer had every record acknowledged.
    long[] ends = new long[2];
    synchronized (locks.computeIfAbsent(r.dataset(), d -> new Object())) {
      result = ingestLocked(r, body, ends);
    }
    // One line per request once it is in (crema up's progress), never one per row or batch; with
    // where its time went: reading, parsing and sending the rows, then waiting for the broker.
    StringBuilder splits = new StringBuilder();
    result.perSplit().forEach((split, n) -> splits.append(splits.isEmpty() ? "" : ", ").append(split).append(' ')
        .append(n));
    LOG.info("{}: ingested {} rows from {} ({}), {} rejected, in {} ms ({} ms reading, parsing and sending, {} ms"
        + " waiting for the broker)", result.dataset(), result.accepted(), r.source(), splits, result.rejected(),
        (ends[1] - start) / 1_000_000, (ends[0] - start) / 1_000_000, (ends[1] - ends[0]) / 1_000_000);
    return result;
  }

  /**
   * Refuses a request that contradicts what the dataset holds already, naming the difference, so
   * that one dataset never mixes two preprocessings.
   */
  private static void checkAgainst(DatasetSchema known, Request r) {
    String d = "dataset '" + r.dataset() + "' ";
    if (!known.getIdColumn().equals(r.idColumn() == null ? "" : r.idColumn())) {
      throw new IllegalArgumentException(d + "has id column '" + known.getIdColumn() + "'; this request names '"
          + (r.idColumn() == null ? "" : r.idColumn()) + "' (id=)");
    }
    if (!known.getLabelColumn().equals(r.labelColumn() == null ? "" : r.labelColumn())) {
      throw new IllegalArgumentException(d + "has label column '" + known.getLabelColumn() + "'; this request names '"
          + (r.labelColumn() == null ? "" : r.labelColumn()) + "' (label=)");
    }
    if (known.getLog1P() != r.log1p()) {
      throw new IllegalArgumentException(d + "was ingested with log1p=" + known.getLog1P() + "; this request has log1p="
          + r.log1p());
    }
    if (r.labels() != null && !r.labels().isEmpty() && known.getLabelNamesCount() > 0
        && !known.getLabelNamesList().equals(r.labels())) {
      throw new IllegalArgumentException(d + "has labels " + known.getLabelNamesList() + "; this request gives "
          + r.labels() + " (labels=)");
    }
  }

  private Result ingestLocked(Request r, InputStream body, long[] ends) throws IOException {
    if (r.testFraction() < 0 || r.testFraction() >= 1) {
      throw new IllegalArgumentException("test_fraction must be in [0, 1), got " + r.testFraction());
    }
    String split = r.testFraction() > 0 ? null : Topics.checkName(r.split() == null ? "train" : r.split(), "split");
    Optional<DatasetSchema> known = known(r.dataset());
    known.ifPresent(k -> checkAgainst(k, r));
    List<String> labels = new ArrayList<>(known.map(k -> (List<String>) k.getLabelNamesList()).orElse(List.of()));
    if (labels.isEmpty() && r.labels() != null) {
      labels.addAll(r.labels());
    }
    boolean fixedLabels = r.labels() != null && !r.labels().isEmpty();
    Sends sendError = new Sends();
    List<String> reasons = new ArrayList<>();
    Map<String, Long> perSplit = new LinkedHashMap<>();
    Map<String, long[]> classCounts = new LinkedHashMap<>();
    Map<String, long[]> splitCounts = new LinkedHashMap<>();
    long received = 0;
    long accepted = 0;
    long rejected = 0;
    FeatureMoments moments;
    CsvSchema schema;
    try (CsvLines lines = new CsvLines(new BodyReadAhead(body, bodyPool, 64 << 10, 64), config.getMaxLineBytes())) {
      byte[] head = lines.next();
      if (head == null) {
        throw new IllegalArgumentException("the body is empty; it needs a CSV header line");
      }
      try {
        schema = CsvSchema.of(RowParser.fields(head, config.getMaxLineBytes()), r.idColumn(), r.labelColumn());
      } catch (RowRejectedException e) {
        throw new IllegalArgumentException("line 1: header: " + e.getMessage());
      }
      if (known.isPresent() && known.get().getFeatureNamesCount() > 0) {
        try {
          // Columns in another order are taken by name, in the dataset's order.
          schema = schema.inOrder(known.get().getFeatureNamesList());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("line 1: dataset '" + r.dataset() + "': " + e.getMessage());
        }
      }
      if (r.shape() != null) {
        int[] sh = r.shape();
        if (sh.length != 3 || sh[0] <= 0 || sh[1] <= 0 || sh[2] <= 0) {
          throw new IllegalArgumentException("shape takes C,H,W: three positive sizes");
        }
        if (r.log1p()) {
          throw new IllegalArgumentException("shape stores pixel values as they are; it does not take log1p");
        }
        if (sh[0] * sh[1] * sh[2] != schema.featureCount()) {
          throw new IllegalArgumentException("line 1: shape " + sh[0] + "," + sh[1] + "," + sh[2] + " needs "
              + sh[0] * sh[1] * sh[2] + " feature columns, the header has " + schema.featureCount());
        }
      }
      RowParser.LabelIndex growing = name -> labelIndex(labels, name, fixedLabels);
      RowParser parser = new RowParser(schema, growing, () -> String.valueOf(labels), r.log1p(),
          config.getMaxLineBytes());
      RowDatums fast = new RowDatums(schema, growing, r.log1p(), config.getMaxLineBytes(), r.shape());
      int features = schema.featureCount();
      moments = new FeatureMoments(features);
      var acceptedRows = rows(r.dataset(), "accepted", "none");
      var bytes = Counter.builder("crema.ingest.bytes")
          .description("CSV bytes received (lines and their line ends)").baseUnit("bytes")
          .tags("dataset", r.dataset()).register(meters);
      bytes.increment(head.length + 1);
      CsvSchema rowSchema = schema;
      int threads = Math.max(1, config.getParseThreads());
      // Rows are parsed on the pool, a few chunks ahead; everything that depends on their order
      // (labels' first appearance, the split, statistics, keys, the order of sends) happens here.
      try (ParallelRows<Parsed> parsed = new ParallelRows<>(lines, parsePool, config.getChunkLines(), 4 * threads,
          () -> chunkParser(rowSchema, labels, fixedLabels, r.log1p(), config.getMaxLineBytes(), r.shape()))) {
        Parsed next;
        long lineNumber = 1;
        Routes routes = new Routes(r, split, splitCounts, classCounts, sendError);
        // The meters are counted here and added every few thousand rows: once per row was a
        // measurable share of this thread, which every row passes through.
        long bytesToCount = 0;
        long acceptedToCount = 0;
        FeatureMoments merged = null;
        while ((next = parsed.next()) != null) {
          received++;
          lineNumber++;
          byte[] line = next.line();
          bytesToCount += line.length + 1;
          if ((received & 4095) == 0) {
            bytes.increment(bytesToCount);
            acceptedRows.increment(acceptedToCount);
            bytesToCount = 0;
            acceptedToCount = 0;
          }
          if (next instanceof Deferred) {
            // A label first seen here: parsed again with the growing label list, in line order.
            FeatureMoments one = new FeatureMoments(features);
            next = parseOne(fast, parser, line, lineNumber, r.shape(), one);
            moments.merge(one);
          } else if (next instanceof Accepted a && a.moments() != merged) {
            // A chunk's first row here: its rows' moments (all its accepted rows but the deferred) join the total.
            merged = a.moments();
            moments.merge(merged);
          }
          if (next instanceof Rejected rej) {
            rejected++;
            deadLetter(r, lineNumber, line, rej.error(), reasons, sendError);
            continue;
          }
          accepted++;
          acceptedToCount++;
          RowDatums.Row row = ((Accepted) next).row();
          routes.send(row.id(), row.label(), row.labelIndex(), row.datum());
        }
        bytes.increment(bytesToCount);
        acceptedRows.increment(acceptedToCount);
      }
    }
    splitCounts.forEach((split1, n) -> perSplit.put(split1, n[0]));
    DatasetSchema.Builder s = DatasetSchema.newBuilder().setDataset(r.dataset())
        .addAllFeatureNames(schema.featureNames()).setRejected(rejected).setLog1P(r.log1p())
        .setIdColumn(r.idColumn() == null ? "" : r.idColumn())
        .setLabelColumn(r.labelColumn() == null ? "" : r.labelColumn()).setAccepted(accepted);
    for (int j = 0; j < schema.featureCount(); j++) {
      s.addFeatures(FeatureStats.newBuilder().setName(schema.featureNames().get(j))
          .setMin(moments.min(j)).setMax(moments.max(j)).setMean(moments.mean(j)).setStd(moments.std(j)));
    }
    ends[0] = System.nanoTime();
    Result result = publishSchema(r, s, known, labels, classCounts, sendError,
        new Result(r.dataset(), received, accepted, rejected, perSplit, List.of(), reasons));
    ends[1] = System.nanoTime();
    return result;
  }

  /**
   * Where an upload's accepted rows (CSV lines or images) go, in order on the request's thread: the split (exact
   * stratification on a stream: within each class, every 1/F-th row, with a seeded phase, goes to
   * test), the split's and class's counts, and the send. A small method of its own rather than
   * the body of the upload's loop: the JIT compiles it whole and quickly, where the loop inside the
   * long upload method was compiled on stack (seconds of C2 on shared cores), and recompiled after
   * each deoptimisation while the rows ran in slower code.
   */
  private final class Routes {
    private final Request r;
    /** The one split of every row, or null to stratify by test_fraction. */
    private final String split;
    private final Map<String, long[]> splitCounts;
    private final Map<String, long[]> classCounts;
    private final Sends sendError;
    private final Map<String, int[]> seenPerClass = new HashMap<>();
    private final Map<String, Double> phase = new HashMap<>();
    private final Random random;
    /** Topic names are checked when made; once per split is enough. */
    private final Map<String, String> topicOf = new HashMap<>();

    Routes(Request r, String split, Map<String, long[]> splitCounts, Map<String, long[]> classCounts,
        Sends sendError) {
      this.r = r;
      this.split = split;
      this.splitCounts = splitCounts;
      this.classCounts = classCounts;
      this.sendError = sendError;
      this.random = new Random(r.seed());
    }

    /** Routes and sends one row; {@code label} null: the upload has no label column. */
    void send(String key, String label, int labelIndex, byte[] datum) {
      String target = split;
      if (target == null) {
        String c = label == null ? "" : label;
        double ph = phase.computeIfAbsent(c, k -> random.nextDouble() / r.testFraction());
        int k = seenPerClass.computeIfAbsent(c, x -> new int[1])[0]++;
        boolean test = Math.floor((k + 1 + ph) * r.testFraction()) > Math.floor((k + ph) * r.testFraction());
        target = test ? "test" : "train";
      }
      splitCounts.computeIfAbsent(target, t -> new long[1])[0]++;
      if (label != null) {
        long[] counts = classCounts.computeIfAbsent(target, t -> new long[0]);
        if (counts.length <= labelIndex) {
          counts = Arrays.copyOf(counts, labelIndex + 1);
          classCounts.put(target, counts);
        }
        counts[labelIndex]++;
      }
      DatasetIngest.this.send(new ProducerRecord<>(topicOf.computeIfAbsent(target, t -> Topics.datums(r.dataset(), t)),
          key, datum), sendError);
    }
  }

  /** A refused row to the dead-letter topic with its line and reason, counted by reason kind. */
  private void deadLetter(Request r, long lineNumber, byte[] line, RowRejectedException e, List<String> reasons,
      Sends sendError) {
    rows(r.dataset(), "rejected", e.kind()).increment();
    if (reasons.size() < 10) {
      reasons.add("line " + lineNumber + ": " + e.getMessage());
    }
    DeadLetter dl = DeadLetter.newBuilder().setSource(r.source()).setLineNumber(lineNumber)
        .setRawLine(new String(line, StandardCharsets.UTF_8)).setReason(e.getMessage())
        .setDataset(r.dataset()).setTimeMs(System.currentTimeMillis()).build();
    send(new ProducerRecord<>(Topics.DEAD_LETTER, r.source(), dl.toByteArray()), sendError);
  }

  /**
   * An upload's end, rows and images alike: the labels and class counts go into its schema, which
   * is merged with what the dataset already had and published; every send is awaited. Returns
   * {@code counts} with the dataset's label names.
   */
  private Result publishSchema(Request r, DatasetSchema.Builder s, Optional<DatasetSchema> known,
      List<String> labels, Map<String, long[]> classCounts, Sends sendError, Result counts) {
    synchronized (labels) {
      s.addAllLabelNames(labels);
    }
    for (Map.Entry<String, long[]> e : classCounts.entrySet()) {
      ClassCounts.Builder cc = ClassCounts.newBuilder();
      for (long c : e.getValue()) {
        cc.addCount(c);
      }
      s.putCountsBySplit(e.getKey(), cc.build());
    }
    DatasetSchema merged = known.map(k -> DatasetSchemas.merge(k, s.build())).orElse(s.build());
    schemas.put(r.dataset(), merged);
    send(new ProducerRecord<>(Topics.DATASETS, r.dataset(), merged.toByteArray()), sendError);
    producer.flush();
    if (sendError.get() != null) {
      throw new IllegalStateException("Kafka did not accept every record: " + sendError.get().getMessage(),
          sendError.get());
    }
    List<String> labelNames;
    synchronized (labels) {
      labelNames = List.copyOf(labels);
    }
    return new Result(counts.dataset(), counts.received(), counts.accepted(), counts.rejected(),
        counts.perSplit(), labelNames, counts.firstReasons());
  }

  /**
   * How an image archive's files become Datums (convert_imageset's flags): {@code listFile} names
   * the archive's {@code path label} list (null: labels from folder names).
   */
  public record ImageOptions(String listFile, boolean gray, int resizeHeight, int resizeWidth, boolean encoded,
      String encodeType) {
    ImageDatums.Options datumOptions() {
      return new ImageDatums.Options(resizeHeight, resizeWidth, gray,
          encoded ? (encodeType == null || encodeType.isBlank() ? "auto" : encodeType) : "");
    }
  }

  /** An entry refused: its reason (naming it) and the metric's reason kind. */
  private static final class ImageRejected extends Exception {
    final String kind;

    ImageRejected(String kind, String message) {
      super(message, null, false, false);
      this.kind = kind;
    }
  }

  /**
   * A zip or tar of PNG/JPEG files into the dataset's topics as image Datums (key = the entry's
   * path), each bad entry a dead letter naming it. Labels, splits and the schema follow the CSV
   * path's rules; folder or list labels are numbered in sorted order.
   */
  public Result ingestImages(Request r, ImageOptions o, InputStream body) throws IOException {
    Topics.checkName(r.dataset(), "dataset");
    ImageDatums.Options opts = o.datumOptions();
    Result result;
    try (ImageArchive archive = ImageArchive.spool(body, config.getMaxImageBytes())) {
      synchronized (locks.computeIfAbsent(r.dataset(), d -> new Object())) {
        result = imagesLocked(r, o, opts, archive);
      }
    }
    LOG.info("{}: ingested {} images from {} ({}), {} rejected", result.dataset(), result.accepted(), r.source(),
        result.perSplit(), result.rejected());
    return result;
  }

  private static boolean skipped(String name) {
    for (String part : name.split("/")) {
      if (part.startsWith(".") || part.equals("__MACOSX")) {
        return true;
      }
    }
    return false;
  }

  /** Names sorted with integers first, by value, then the others as strings. */
  private static int labelOrder(String a, String b) {
    boolean da = a.matches("\\d{1,9}");
    boolean db = b.matches("\\d{1,9}");
    if (da && db) {
      return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
    }
    return da ? -1 : db ? 1 : a.compareTo(b);
  }

  private Result imagesLocked(Request r, ImageOptions o, ImageDatums.Options opts, ImageArchive archive)
      throws IOException {
    if (r.testFraction() < 0 || r.testFraction() >= 1) {
      throw new IllegalArgumentException("test_fraction must be in [0, 1), got " + r.testFraction());
    }
    String split = r.testFraction() > 0 ? null : Topics.checkName(r.split() == null ? "train" : r.split(), "split");
    Optional<DatasetSchema> known = known(r.dataset());
    known.ifPresent(k -> checkAgainst(k, r));
    List<String> labels = new ArrayList<>(known.map(k -> (List<String>) k.getLabelNamesList()).orElse(List.of()));
    if (labels.isEmpty() && r.labels() != null) {
      labels.addAll(r.labels());
    }
    boolean fixedLabels = r.labels() != null && !r.labels().isEmpty();
    // Each entry's label name: from the list file, else from its folder.
    Map<String, String> listed = null;
    if (o.listFile() != null && !o.listFile().isBlank()) {
      byte[] list = archive.bytesOf(o.listFile());
      if (list == null) {
        throw new IllegalArgumentException("the archive has no list file '" + o.listFile() + "' (list=)");
      }
      String dir = o.listFile().contains("/") ? o.listFile().substring(0, o.listFile().lastIndexOf('/') + 1) : "";
      listed = new LinkedHashMap<>();
      int n = 0;
      for (String line : new String(list, StandardCharsets.UTF_8).split("\r?\n")) {
        n++;
        String t = line.strip();
        if (t.isEmpty()) {
          continue;
        }
        int sp = Math.max(t.lastIndexOf(' '), t.lastIndexOf('\t'));
        if (sp < 0) {
          throw new IllegalArgumentException(o.listFile() + ":" + n + ": expected 'path label', got '" + t + "'");
        }
        listed.put(dir + t.substring(0, sp).strip(), t.substring(sp + 1));
      }
    }
    List<ImageArchive.Entry> entries = archive.entries();
    Map<String, String> labelOf = new LinkedHashMap<>();
    java.util.Set<String> present = new java.util.HashSet<>();
    for (ImageArchive.Entry e : entries) {
      present.add(e.name());
      if (skipped(e.name()) || e.name().equals(o.listFile())) {
        continue;
      }
      if (listed != null) {
        if (listed.containsKey(e.name())) {
          labelOf.put(e.name(), listed.get(e.name()));
        }
      } else {
        String[] parts = e.name().split("/");
        labelOf.put(e.name(), parts.length >= 2 ? parts[parts.length - 2] : "");
      }
    }
    if (!fixedLabels) {
      labelOf.values().stream().filter(l -> !l.isEmpty()).distinct().sorted(DatasetIngest::labelOrder)
          .forEach(l -> labelIndex(labels, l, false));
    }
    Sends sendError = new Sends();
    List<String> reasons = new ArrayList<>();
    Map<String, Long> perSplit = new LinkedHashMap<>();
    Map<String, long[]> classCounts = new LinkedHashMap<>();
    Map<String, long[]> splitCounts = new LinkedHashMap<>();
    Routes routes = new Routes(r, split, splitCounts, classCounts, sendError);
    long[] counts = new long[3]; // received, accepted, rejected
    int knownFeatures = known.map(DatasetSchema::getFeatureNamesCount).orElse(0);
    int[][] shape = {null};
    double[][] stats = {null, null, null, null}; // min, max, mean, m2
    var acceptedRows = rows(r.dataset(), "accepted", "none");
    var bytes = Counter.builder("crema.ingest.bytes").description("CSV bytes received (lines and their line ends)")
        .baseUnit("bytes").tags("dataset", r.dataset()).register(meters);
    archive.read((entry, data) -> {
      String name = entry.name();
      if (!labelOf.containsKey(name)) {
        return;
      }
      counts[0]++;
      long ordinal = counts[0];
      try {
        if (data == null) {
          throw new ImageRejected("too_long", name + ": " + entry.size() + " bytes, longer than the limit of "
              + config.getMaxImageBytes() + " (crema.ingest.max-image-bytes)");
        }
        bytes.increment(data.length);
        String labelName = labelOf.get(name);
        if (labelName.isEmpty()) {
          throw new ImageRejected("no_label", name + ": not in a folder, so it has no label (put each class in a"
              + " folder, or give a list file with list=)");
        }
        int label;
        synchronized (labels) {
          label = labels.indexOf(labelName);
        }
        if (label < 0) {
          throw new ImageRejected("unknown_label", name + ": unknown label '" + labelName + "' (known: " + labels + ")");
        }
        Datum d;
        Datum raw;
        try {
          d = ImageDatums.read(data, name, label, opts);
          raw = ImageDatums.decode(d);
        } catch (IOException | RuntimeException ex) {
          String m = ex.getMessage() == null ? ex.toString() : ex.getMessage();
          throw new ImageRejected("not_an_image", m.startsWith(name) ? m : name + ": " + m);
        }
        // The datums topic keeps Kafka's default record limit (about 1 MiB), and so does the
        // producer: a bigger Datum would fail the whole upload at the send, so it is refused here.
        int recordBytes = d.getSerializedSize() + name.length() + RECORD_OVERHEAD_BYTES;
        if (recordBytes > TopicKind.DATUMS.maxMessageBytes()) {
          throw new ImageRejected("too_large", name + ": its Datum is " + d.getSerializedSize() + " bytes, more than"
              + " a datums topic's record limit of " + TopicKind.DATUMS.maxMessageBytes() + " bytes (max.message.bytes);"
              + " make it smaller with resize_height/resize_width, or keep the file with encoded=true");
        }
        int[] s = {raw.getChannels(), raw.getHeight(), raw.getWidth()};
        int n = s[0] * s[1] * s[2];
        if (shape[0] == null && knownFeatures > 0 && n != knownFeatures) {
          throw new ImageRejected("size", name + ": " + s[0] + "x" + s[1] + "x" + s[2] + " is " + n
              + " values; the dataset's images have " + knownFeatures + " (resize_height/resize_width, gray)");
        }
        if (shape[0] != null && !Arrays.equals(shape[0], s)) {
          throw new ImageRejected("size", name + ": " + s[0] + "x" + s[1] + "x" + s[2] + ", the upload's images are "
              + shape[0][0] + "x" + shape[0][1] + "x" + shape[0][2] + " (resize_height/resize_width make them one size)");
        }
        if (shape[0] == null) {
          shape[0] = s;
          for (int k = 0; k < 4; k++) {
            stats[k] = new double[n];
          }
          Arrays.fill(stats[0], Double.POSITIVE_INFINITY);
          Arrays.fill(stats[1], Double.NEGATIVE_INFINITY);
        }
        counts[1]++;
        acceptedRows.increment();
        byte[] px = raw.getData().toByteArray();
        for (int j = 0; j < n; j++) {
          double v = px[j] & 0xff;
          stats[0][j] = Math.min(stats[0][j], v);
          stats[1][j] = Math.max(stats[1][j], v);
          double delta = v - stats[2][j];
          stats[2][j] += delta / counts[1];
          stats[3][j] += delta * (v - stats[2][j]);
        }
        routes.send(name, labelName, label, d.toByteArray());
      } catch (ImageRejected e) {
        counts[2]++;
        deadLetter(r, ordinal, name, e, reasons, sendError);
      }
    });
    if (listed != null) {
      for (String path : listed.keySet()) {
        if (!present.contains(path)) {
          counts[0]++;
          counts[2]++;
          deadLetter(r, counts[0], path, new ImageRejected("missing", path + ": listed in " + o.listFile()
              + " but not in the archive"), reasons, sendError);
        }
      }
    }
    splitCounts.forEach((target, n) -> perSplit.put(target, n[0]));
    long accepted = counts[1];
    List<String> featureNames = new ArrayList<>();
    if (knownFeatures > 0) {
      featureNames.addAll(known.get().getFeatureNamesList());
    } else if (shape[0] != null) {
      for (int j = 0; j < stats[0].length; j++) {
        featureNames.add("pixel" + j);
      }
    }
    DatasetSchema.Builder s = DatasetSchema.newBuilder().setDataset(r.dataset()).addAllFeatureNames(featureNames)
        .setRejected(counts[2]).setLog1P(false).setIdColumn(r.idColumn() == null ? "" : r.idColumn())
        .setLabelColumn(r.labelColumn() == null ? "" : r.labelColumn()).setAccepted(accepted);
    if (shape[0] != null) {
      for (int j = 0; j < featureNames.size() && j < stats[0].length; j++) {
        s.addFeatures(FeatureStats.newBuilder().setName(featureNames.get(j)).setMin(stats[0][j]).setMax(stats[1][j])
            .setMean(stats[2][j]).setStd(accepted > 1 ? Math.sqrt(stats[3][j] / (accepted - 1)) : 0));
      }
    }
    return publishSchema(r, s, known, labels, classCounts, sendError,
        new Result(r.dataset(), counts[0], accepted, counts[2], perSplit, List.of(), reasons));
  }

  private void deadLetter(Request r, long ordinal, String name, ImageRejected e, List<String> reasons,
      Sends sendError) {
    rows(r.dataset(), "rejected", e.kind).increment();
    if (reasons.size() < 10) {
      reasons.add(e.getMessage());
    }
    DeadLetter dl = DeadLetter.newBuilder().setSource(r.source()).setLineNumber(ordinal).setRawLine(name)
        .setReason(e.getMessage()).setDataset(r.dataset()).setTimeMs(System.currentTimeMillis()).build();
    send(new ProducerRecord<>(Topics.DEAD_LETTER, r.source(), dl.toByteArray()), sendError);
  }

  /** Puts every line of a batch that could not be read at all on the dead-letter topic. */
  void rejectAll(Request r, byte[] body, String reason) {
    String[] lines = new String(body, StandardCharsets.UTF_8).split("\n", -1);
    Sends error = new Sends();
    // Line 1 is the header the batch was given; the rows follow it.
    for (int i = 1; i < lines.length - 1; i++) {
      DeadLetter dl = DeadLetter.newBuilder().setSource(r.source()).setLineNumber(i + 1).setRawLine(lines[i])
          .setReason(reason).setDataset(r.dataset()).setTimeMs(System.currentTimeMillis()).build();
      send(new ProducerRecord<>(Topics.DEAD_LETTER, r.source(), dl.toByteArray()), error);
    }
    producer.flush();
  }

  /**
   * An upload's sends: the first failure any of them met. One callback for all of an upload's
   * records (the records' acknowledgements all pass through the producer's one network thread;
   * a callback made per record, and a count of acknowledgements nobody read, were its work too).
   */
  private static final class Sends implements Callback {
    private final AtomicReference<Exception> first = new AtomicReference<>();

    @Override
    public void onCompletion(RecordMetadata metadata, Exception e) {
      if (e != null) {
        first.compareAndSet(null, e);
      }
    }

    Exception get() {
      return first.get();
    }
  }

  private void send(ProducerRecord<String, byte[]> record, Sends sends) {
    topics.ensureOnce(record.topic());
    if ((sent.getAndIncrement() & (LATENCY_SAMPLE - 1)) != 0) {
      producer.send(record, sends);
      return;
    }
    long start = System.nanoTime();
    producer.send(record, (meta, e) -> {
      producerLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      sends.onCompletion(meta, e);
    });
  }

  /**
   * A label's index: from the request's label list when given; else integers name their own index
   * (digits "0".."9"); else names get the next index in order of first appearance.
   */
  private static int labelIndex(List<String> labels, String name, boolean fixed) {
    synchronized (labels) {
      int i = labels.indexOf(name);
      if (i >= 0 || fixed) {
        return i;
      }
      if (name.matches("\\d{1,6}")) {
        int v = Integer.parseInt(name);
        while (labels.size() <= v) {
          labels.add(Integer.toString(labels.size()));
        }
        return labels.get(v).equals(name) ? v : -1;
      }
      if (name.isEmpty()) {
        return -1;
      }
      labels.add(name);
      return labels.size() - 1;
    }
  }
}
