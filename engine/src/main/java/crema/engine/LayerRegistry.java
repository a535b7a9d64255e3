package crema.engine;

import caffe.Caffe.LayerParameter;
import crema.engine.layers.*;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** The one registry of layer types, keyed by Caffe's type strings ("InnerProduct", "ReLU", …). */
public final class LayerRegistry {
  private static final Map<String, Function<LayerParameter, Layer>> TYPES = new TreeMap<>();

  static {
    // Data
    register("Input", InputLayer::new);
    register("Data", DataLayer::new);
    register("HDF5Data", HDF5DataLayer::new);
    register("MemoryData", MemoryDataLayer::new);
    register("DummyData", DummyDataLayer::new);
    // Common and normalisation
    register("InnerProduct", InnerProductLayer::new);
    register("Embed", EmbedLayer::new);
    register("Dropout", DropoutLayer::new);
    register("BatchNorm", BatchNormLayer::new);
    register("Scale", ScaleLayer::new);
    register("Bias", BiasLayer::new);
    // Neurons
    register("ReLU", ReLULayer::new);
    register("PReLU", PReLULayer::new);
    register("ELU", ELULayer::new);
    register("Sigmoid", SigmoidLayer::new);
    register("TanH", TanHLayer::new);
    register("AbsVal", AbsValLayer::new);
    register("BNLL", BNLLLayer::new);
    register("Power", PowerLayer::new);
    register("Exp", ExpLayer::new);
    register("Log", LogLayer::new);
    register("Threshold", ThresholdLayer::new);
    register("Clip", ClipLayer::new);
    register("Swish", SwishLayer::new);
    // Softmax and losses
    register("Softmax", SoftmaxLayer::new);
    register("SoftmaxWithLoss", SoftmaxWithLossLayer::new);
    register("SigmoidCrossEntropyLoss", SigmoidCrossEntropyLossLayer::new);
    register("EuclideanLoss", EuclideanLossLayer::new);
    register("HingeLoss", HingeLossLayer::new);
    register("MultinomialLogisticLoss", MultinomialLogisticLossLayer::new);
    register("Accuracy", AccuracyLayer::new);
    // Utility
    register("Split", SplitLayer::new);
    register("Concat", ConcatLayer::new);
    register("Slice", SliceLayer::new);
    register("Eltwise", EltwiseLayer::new);
    register("Flatten", FlattenLayer::new);
    register("Reshape", ReshapeLayer::new);
    register("Silence", SilenceLayer::new);
    register("ArgMax", ArgMaxLayer::new);
    register("Reduction", ReductionLayer::new);
    register("Tile", TileLayer::new);
  }

  private LayerRegistry() {}

  /** Adds a layer type; a later registration of the same type replaces the earlier one. */
  public static synchronized void register(String type, Function<LayerParameter, Layer> factory) {
    TYPES.put(type, factory);
  }

  public static synchronized boolean has(String type) {
    return TYPES.containsKey(type);
  }

  public static synchronized java.util.Set<String> types() {
    return java.util.Set.copyOf(TYPES.keySet());
  }

  /** Creates the layer {@code param} describes; an unknown type fails naming the layer. */
  public static Layer create(LayerParameter param) {
    Function<LayerParameter, Layer> factory;
    synchronized (LayerRegistry.class) {
      factory = TYPES.get(param.getType());
    }
    if (factory == null) {
      throw new NetException("layer '" + param.getName() + "': Unknown layer type: " + param.getType()
          + " (known types: " + String.join(", ", TYPES.keySet()) + ")");
    }
    return factory.apply(param);
  }
}
