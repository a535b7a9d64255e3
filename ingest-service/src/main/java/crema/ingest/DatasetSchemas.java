package crema.ingest;

import crema.proto.ClassCounts;
import crema.proto.DatasetSchema;
import crema.proto.FeatureStats;
import java.util.HashMap;
import java.util.Map;

/** Adding one request's schema to a dataset's: counts add up, feature statistics pool. */
final class DatasetSchemas {
  private DatasetSchemas() {}

  /**
   * {@code known} plus {@code added} (whose features are in the same order, checked before the
   * rows were read): counts per split and class and rejected rows add up; min and max widen; mean
   * and standard deviation are pooled exactly (Chan et al.'s parallel update); the label names are
   * the request's, which extend the known ones.
   */
  static DatasetSchema merge(DatasetSchema known, DatasetSchema added) {
    DatasetSchema.Builder out = added.toBuilder().clearCountsBySplit().clearFeatures()
        .setRejected(known.getRejected() + added.getRejected()).setAccepted(rows(known) + added.getAccepted());
    Map<String, ClassCounts> counts = new HashMap<>(known.getCountsBySplitMap());
    added.getCountsBySplitMap().forEach((split, c) -> counts.merge(split, c, DatasetSchemas::add));
    out.putAllCountsBySplit(counts);
    long na = rows(known);
    long nb = added.getAccepted();
    for (int j = 0; j < added.getFeaturesCount(); j++) {
      FeatureStats b = added.getFeatures(j);
      FeatureStats a = j < known.getFeaturesCount() ? known.getFeatures(j) : null;
      if (a == null || na == 0) {
        out.addFeatures(b);
        continue;
      }
      if (nb == 0) {
        out.addFeatures(a);
        continue;
      }
      double n = na + nb;
      double delta = b.getMean() - a.getMean();
      double m2 = a.getStd() * a.getStd() * (na - 1) + b.getStd() * b.getStd() * (nb - 1) + delta * delta * na * nb / n;
      out.addFeatures(FeatureStats.newBuilder().setName(b.getName()).setMin(Math.min(a.getMin(), b.getMin()))
          .setMax(Math.max(a.getMax(), b.getMax())).setMean(a.getMean() + delta * nb / n)
          .setStd(n > 1 ? Math.sqrt(m2 / (n - 1)) : 0));
    }
    return out.build();
  }

  /** Rows behind a schema's statistics (older records lack the count: the class counts tell it). */
  private static long rows(DatasetSchema s) {
    if (s.getAccepted() > 0) {
      return s.getAccepted();
    }
    return s.getCountsBySplitMap().values().stream().flatMap(c -> c.getCountList().stream()).mapToLong(Long::longValue)
        .sum();
  }

  private static ClassCounts add(ClassCounts a, ClassCounts b) {
    ClassCounts.Builder c = ClassCounts.newBuilder();
    for (int i = 0; i < Math.max(a.getCountCount(), b.getCountCount()); i++) {
      c.addCount((i < a.getCountCount() ? a.getCount(i) : 0) + (i < b.getCountCount() ? b.getCount(i) : 0));
    }
    return c.build();
  }
}
