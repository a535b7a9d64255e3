package crema.engine.io;

import caffe.Caffe.BlobShape;
import caffe.Caffe.DataParameter;
import caffe.Caffe.InputParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.ParamSpec;
import caffe.Caffe.SolverParameter;
import caffe.Caffe.TransformationParameter;
import caffe.Caffe.V1LayerParameter;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Caffe's upgrades of legacy files (upgrade_proto.cpp), applied on every read. */
public final class Upgrade {
  private static final System.Logger LOG = System.getLogger(Upgrade.class.getName());

  private static final Map<V1LayerParameter.LayerType, String> V1_TYPES = Map.ofEntries(
      Map.entry(V1LayerParameter.LayerType.ABSVAL, "AbsVal"),
      Map.entry(V1LayerParameter.LayerType.ACCURACY, "Accuracy"),
      Map.entry(V1LayerParameter.LayerType.ARGMAX, "ArgMax"),
      Map.entry(V1LayerParameter.LayerType.BNLL, "BNLL"),
      Map.entry(V1LayerParameter.LayerType.CONCAT, "Concat"),
      Map.entry(V1LayerParameter.LayerType.CONTRASTIVE_LOSS, "ContrastiveLoss"),
      Map.entry(V1LayerParameter.LayerType.CONVOLUTION, "Convolution"),
      Map.entry(V1LayerParameter.LayerType.DECONVOLUTION, "Deconvolution"),
      Map.entry(V1LayerParameter.LayerType.DATA, "Data"),
      Map.entry(V1LayerParameter.LayerType.DROPOUT, "Dropout"),
      Map.entry(V1LayerParameter.LayerType.DUMMY_DATA, "DummyData"),
      Map.entry(V1LayerParameter.LayerType.EUCLIDEAN_LOSS, "EuclideanLoss"),
      Map.entry(V1LayerParameter.LayerType.ELTWISE, "Eltwise"),
      Map.entry(V1LayerParameter.LayerType.EXP, "Exp"),
      Map.entry(V1LayerParameter.LayerType.FLATTEN, "Flatten"),
      Map.entry(V1LayerParameter.LayerType.HDF5_DATA, "HDF5Data"),
      Map.entry(V1LayerParameter.LayerType.HDF5_OUTPUT, "HDF5Output"),
      Map.entry(V1LayerParameter.LayerType.HINGE_LOSS, "HingeLoss"),
      Map.entry(V1LayerParameter.LayerType.IM2COL, "Im2col"),
      Map.entry(V1LayerParameter.LayerType.IMAGE_DATA, "ImageData"),
      Map.entry(V1LayerParameter.LayerType.INFOGAIN_LOSS, "InfogainLoss"),
      Map.entry(V1LayerParameter.LayerType.INNER_PRODUCT, "InnerProduct"),
      Map.entry(V1LayerParameter.LayerType.LRN, "LRN"),
      Map.entry(V1LayerParameter.LayerType.MEMORY_DATA, "MemoryData"),
      Map.entry(V1LayerParameter.LayerType.MULTINOMIAL_LOGISTIC_LOSS, "MultinomialLogisticLoss"),
      Map.entry(V1LayerParameter.LayerType.MVN, "MVN"),
      Map.entry(V1LayerParameter.LayerType.POOLING, "Pooling"),
      Map.entry(V1LayerParameter.LayerType.POWER, "Power"),
      Map.entry(V1LayerParameter.LayerType.RELU, "ReLU"),
      Map.entry(V1LayerParameter.LayerType.SIGMOID, "Sigmoid"),
      Map.entry(V1LayerParameter.LayerType.SIGMOID_CROSS_ENTROPY_LOSS, "SigmoidCrossEntropyLoss"),
      Map.entry(V1LayerParameter.LayerType.SILENCE, "Silence"),
      Map.entry(V1LayerParameter.LayerType.SOFTMAX, "Softmax"),
      Map.entry(V1LayerParameter.LayerType.SOFTMAX_LOSS, "SoftmaxWithLoss"),
      Map.entry(V1LayerParameter.LayerType.SPLIT, "Split"),
      Map.entry(V1LayerParameter.LayerType.SLICE, "Slice"),
      Map.entry(V1LayerParameter.LayerType.TANH, "TanH"),
      Map.entry(V1LayerParameter.LayerType.WINDOW_DATA, "WindowData"),
      Map.entry(V1LayerParameter.LayerType.THRESHOLD, "Threshold"));

  private static final String[] SOLVER_TYPES = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};

  private Upgrade() {}

  /** Whether {@link #net} would change {@code p}. */
  public static boolean netNeedsUpgrade(NetParameter p) {
    return p.getLayersCount() > 0 || p.getInputCount() > 0 || p.getInputDimCount() > 0
        || p.getInputShapeCount() > 0 || p.getLayerList().stream().anyMatch(Upgrade::batchNormNeedsUpgrade);
  }

  /** Applies every net upgrade Caffe applies, in Caffe's order. */
  public static NetParameter net(NetParameter p, String source) {
    if (!netNeedsUpgrade(p)) {
      return p;
    }
    NetParameter.Builder b = p.toBuilder();
    if (p.getLayersCount() > 0) {
      if (p.getLayerCount() > 0) {
        throw new ProtoFormatException(source + ": both 'layer' and 'layers' are specified; a net"
            + " uses one form (V2 'layer' or legacy V1 'layers')");
      }
      LOG.log(Level.WARNING, source + ": attempting to upgrade V1 'layers' to 'layer'; rewrite the"
          + " file with `crema upgrade`");
      b.clearLayers();
      for (V1LayerParameter v1 : p.getLayersList()) {
        b.addLayer(v1Layer(v1, source));
      }
    }
    if (p.getInputCount() > 0) {
      b = inputsToLayer(b, source);
    }
    for (int i = 0; i < b.getLayerCount(); i++) {
      if (batchNormNeedsUpgrade(b.getLayer(i))) {
        LayerParameter.Builder l = b.getLayer(i).toBuilder();
        for (int j = 0; j < l.getParamCount(); j++) {
          l.setParam(j, l.getParam(j).toBuilder().setLrMult(0).setDecayMult(0));
        }
        b.setLayer(i, l);
      }
    }
    return b.build();
  }

  private static boolean batchNormNeedsUpgrade(LayerParameter l) {
    return "BatchNorm".equals(l.getType()) && l.getParamCount() == 3
        && l.getParamList().stream().anyMatch(s -> s.getLrMult() != 0 || s.getDecayMult() != 0);
  }

  private static LayerParameter v1Layer(V1LayerParameter v1, String source) {
    if (v1.hasLayer()) {
      throw new ProtoFormatException(source + ": layer '" + v1.getName() + "' is in the V0 format"
          + " of 2013, which Crema does not upgrade; convert it with Caffe's upgrade_net_proto_text"
          + " first");
    }
    String type = V1_TYPES.get(v1.getType());
    if (type == null) {
      throw new ProtoFormatException(source + ": V1 layer '" + v1.getName() + "' has unknown type "
          + v1.getType());
    }
    LayerParameter.Builder l = LayerParameter.newBuilder()
        .setName(v1.getName())
        .setType(type)
        .addAllBottom(v1.getBottomList())
        .addAllTop(v1.getTopList())
        .addAllInclude(v1.getIncludeList())
        .addAllExclude(v1.getExcludeList())
        .addAllBlobs(v1.getBlobsList())
        .addAllLossWeight(v1.getLossWeightList());
    int params = Math.max(Math.max(v1.getParamCount(), v1.getBlobShareModeCount()),
        Math.max(v1.getBlobsLrCount(), v1.getWeightDecayCount()));
    for (int i = 0; i < params; i++) {
      ParamSpec.Builder s = ParamSpec.newBuilder();
      if (i < v1.getParamCount()) {
        s.setName(v1.getParam(i));
      }
      if (i < v1.getBlobShareModeCount()) {
        s.setShareMode(ParamSpec.DimCheckMode.forNumber(v1.getBlobShareMode(i).getNumber()));
      }
      if (i < v1.getBlobsLrCount()) {
        s.setLrMult(v1.getBlobsLr(i));
      }
      if (i < v1.getWeightDecayCount()) {
        s.setDecayMult(v1.getWeightDecay(i));
      }
      l.addParam(s);
    }
    // Every *_param sub-message has the same type and name in both messages.
    for (Map.Entry<FieldDescriptor, Object> e : v1.getAllFields().entrySet()) {
      String name = e.getKey().getName();
      if (name.endsWith("_param")) {
        FieldDescriptor target = LayerParameter.getDescriptor().findFieldByName(name);
        if (target != null) {
          l.setField(target, e.getValue());
        }
      }
    }
    // Data transformation fields moved from the data params into transform_param.
    if (v1.hasDataParam()) {
      DataParameter d = v1.getDataParam();
      TransformationParameter.Builder t = l.getTransformParam().toBuilder();
      boolean moved = false;
      if (d.hasScale()) {
        t.setScale(d.getScale());
        moved = true;
      }
      if (d.hasMeanFile()) {
        t.setMeanFile(d.getMeanFile());
        moved = true;
      }
      if (d.hasCropSize()) {
        t.setCropSize(d.getCropSize());
        moved = true;
      }
      if (d.hasMirror()) {
        t.setMirror(d.getMirror());
        moved = true;
      }
      if (moved) {
        l.setTransformParam(t);
        l.setDataParam(d.toBuilder().clearScale().clearMeanFile().clearCropSize().clearMirror());
      }
    }
    return l.build();
  }

  private static NetParameter.Builder inputsToLayer(NetParameter.Builder b, String source) {
    int inputs = b.getInputCount();
    boolean dims = b.getInputDimCount() > 0;
    boolean shapes = b.getInputShapeCount() > 0;
    if (!dims && !shapes) {
      // An old caffemodel that names its inputs without dimensions: nothing to build.
      return b.clearInput();
    }
    LayerParameter.Builder input = LayerParameter.newBuilder().setName("input").setType("Input");
    InputParameter.Builder ip = InputParameter.newBuilder();
    if (shapes) {
      if (b.getInputShapeCount() != inputs) {
        throw new ProtoFormatException(source + ": " + inputs + " inputs but "
            + b.getInputShapeCount() + " input_shape entries");
      }
      ip.addAllShape(b.getInputShapeList());
    } else {
      if (b.getInputDimCount() != 4 * inputs) {
        throw new ProtoFormatException(source + ": input_dim must give 4 values (N, C, H, W) per"
            + " input: " + inputs + " inputs, " + b.getInputDimCount() + " input_dim values");
      }
      for (int i = 0; i < inputs; i++) {
        BlobShape.Builder s = BlobShape.newBuilder();
        for (int j = 0; j < 4; j++) {
          s.addDim(b.getInputDim(4 * i + j));
        }
        ip.addShape(s);
      }
    }
    input.addAllTop(b.getInputList()).setInputParam(ip);
    List<LayerParameter> rest = new ArrayList<>(b.getLayerList());
    b.clearLayer().addLayer(input).addAllLayer(rest);
    return b.clearInput().clearInputDim().clearInputShape();
  }

  /** Whether {@link #solver} would change {@code s}. */
  public static boolean solverNeedsUpgrade(SolverParameter s) {
    return s.hasSolverType();
  }

  /** Turns the deprecated {@code solver_type} enum into the {@code type} string. */
  public static SolverParameter solver(SolverParameter s, String source) {
    if (!s.hasSolverType()) {
      return s;
    }
    if (s.hasType()) {
      throw new ProtoFormatException(source + ": Failed to upgrade solver: old solver_type field"
          + " (enum) and new type field (string) cannot be both specified.");
    }
    return s.toBuilder().setType(SOLVER_TYPES[s.getSolverType().getNumber()]).clearSolverType().build();
  }
}
