package crema.cli;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import crema.engine.Blob;
import crema.engine.io.BinaryProto;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crema weights W.caffemodel OUTDIR}: per layer, the weight matrix as a heatmap with a
 * colour bar (the seed notebook's {@code matshow} of ip1) and a 20-bin histogram of weights and
 * biases, as PNGs drawn by JFreeChart.
 */
@Command(name = "weights", description = "Draw each layer's weights as a heatmap and a histogram (PNG).")
final class WeightsCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "The .caffemodel.")
  Path caffemodel;

  @Parameters(index = "1", description = "The folder to write PNGs into.")
  Path outDir;

  @Option(names = "--layer", description = "Only this layer.")
  String layer;

  @Override
  public Integer call() throws IOException {
    System.setProperty("java.awt.headless", "true");
    NetParameter net = BinaryProto.readNet(caffemodel);
    Files.createDirectories(outDir);
    int drawn = 0;
    for (LayerParameter l : net.getLayerList()) {
      if (l.getBlobsCount() == 0 || (layer != null && !layer.equals(l.getName()))) {
        continue;
      }
      Blob w = blob(l.getBlobs(0));
      int rows = w.shape(0);
      int cols = w.count() / Math.max(1, rows);
      Path heat = outDir.resolve(safe(l.getName()) + "_weights.png");
      ChartUtils.saveChartAsPNG(heat.toFile(), heatmap(l.getName(), w, rows, cols),
          Math.max(480, Math.min(1600, cols * 12 + 160)), Math.max(320, Math.min(1200, rows * 12 + 200)));
      List<float[]> series = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (int i = 0; i < l.getBlobsCount(); i++) {
        Blob b = blob(l.getBlobs(i));
        series.add(Arrays.copyOf(b.data(), b.count()));
        names.add(i == 0 ? "weights" : i == 1 ? "biases" : "blob " + i);
      }
      Path hist = outDir.resolve(safe(l.getName()) + "_hist.png");
      ChartUtils.saveChartAsPNG(hist.toFile(), histogram(l.getName(), series, names), 640, 420);
      System.err.println(l.getName() + ": " + rows + "x" + cols + " -> " + heat + ", " + hist);
      drawn++;
    }
    if (drawn == 0) {
      throw new IllegalArgumentException(layer != null ? caffemodel + " has no layer '" + layer + "' with weights"
          : caffemodel + " holds no layer with weights");
    }
    return 0;
  }

  private static Blob blob(BlobProto p) {
    Blob b = new Blob();
    b.fromProto(p, true);
    return b;
  }

  /** Layer names become file names: anything but letters, digits, '-', '_' and '.' becomes '_'. */
  static String safe(String name) {
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** matshow: row 0 at the top, one cell per weight, viridis colours with a colour bar. */
  static JFreeChart heatmap(String name, Blob w, int rows, int cols) {
    double[][] xyz = new double[3][rows * cols];
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        xyz[0][i] = c;
        xyz[1][i] = r;
        xyz[2][i] = w.data()[i];
        min = Math.min(min, w.data()[i]);
        max = Math.max(max, w.data()[i]);
      }
    }
    if (min == max) {
      max = min + 1e-6f;
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries(name, xyz);
    XYBlockRenderer renderer = new XYBlockRenderer();
    LookupPaintScale scale = viridis(min, max);
    renderer.setPaintScale(scale);
    NumberAxis x = new NumberAxis("input");
    x.setRange(-0.5, cols - 0.5);
    NumberAxis y = new NumberAxis("output");
    y.setRange(-0.5, rows - 0.5);
    y.setInverted(true);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    JFreeChart chart = new JFreeChart(name + " weights (" + rows + "x" + cols + ")", plot);
    chart.removeLegend();
    NumberAxis scaleAxis = new NumberAxis();
    scaleAxis.setRange(min, max);
    PaintScaleLegend legend = new PaintScaleLegend(scale, scaleAxis);
    legend.setPosition(RectangleEdge.BOTTOM);
    legend.setAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
    legend.setStripWidth(12);
    legend.setMargin(4, 40, 4, 40);
    chart.addSubtitle(legend);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  /** matplotlib's viridis, by its anchor colours, as 256 steps. */
  static LookupPaintScale viridis(double min, double max) {
    int[][] anchors = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    LookupPaintScale s = new LookupPaintScale(min, max, new Color(68, 1, 84));
    for (int i = 0; i < 256; i++) {
      double t = i / 255.0 * (anchors.length - 1);
      int a = Math.min((int) t, anchors.length - 2);
      double f = t - a;
      Color c = new Color(
          (int) Math.round(anchors[a][0] + f * (anchors[a + 1][0] - anchors[a][0])),
          (int) Math.round(anchors[a][1] + f * (anchors[a + 1][1] - anchors[a][1])),
          (int) Math.round(anchors[a][2] + f * (anchors[a + 1][2] - anchors[a][2])));
      s.add(min + (max - min) * i / 256.0, c);
    }
    return s;
  }

  static JFreeChart histogram(String name, List<float[]> series, List<String> names) {
    HistogramDataset data = new HistogramDataset();
    for (int i = 0; i < series.size(); i++) {
      float[] v = series.get(i);
      double[] d = new double[v.length];
      for (int k = 0; k < v.length; k++) {
        d[k] = v[k];
      }
      if (d.length > 0) {
        data.addSeries(names.get(i), d, 20);
      }
    }
    JFreeChart chart = ChartFactory.createHistogram(name + " values (20 bins)", "value", "count",
        data, PlotOrientation.VERTICAL, true, false, false);
    ((XYBarRenderer) ((XYPlot) chart.getPlot()).getRenderer()).setShadowVisible(false);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }
}
