package crema.engine;

import caffe.Caffe.BlobProto;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.NetState;
import caffe.Caffe.ParamSpec;
import caffe.Caffe.Phase;
import crema.engine.math.Backend;
import crema.engine.math.Device;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A net built from a NetParameter and a NetState, as Caffe's Net builds it: layers filtered by
 * their include/exclude rules, Split layers inserted, in-place layers sharing their blob, shared
 * parameters, loss weights and the backward plan (which layers and bottoms need gradients).
 */
public final class Net implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Net.class.getName());

  private final String name;
  private final Phase phase;
  private final NetParameter param;
  private final List<Layer> layers = new ArrayList<>();
  private final List<List<Blob>> bottoms = new ArrayList<>();
  private final List<List<Blob>> tops = new ArrayList<>();
  private final List<List<String>> topNames = new ArrayList<>();
  private final List<boolean[]> bottomNeedBackward = new ArrayList<>();
  private final List<Boolean> layerNeedBackward = new ArrayList<>();
  private final Map<String, Blob> blobsByName = new LinkedHashMap<>();
  private final Map<String, Integer> layerIndex = new HashMap<>();
  private final List<String> outputNames = new ArrayList<>();
  private final List<String> inputNames = new ArrayList<>();
  private final List<Blob> learnableParams = new ArrayList<>();
  private final List<Float> lrMults = new ArrayList<>();
  private final List<Float> decayMults = new ArrayList<>();
  private final Device device;
  private final Rng rng;

  /**
   * Builds the net from an already upgraded NetParameter (see {@code Prototxt}), with its own
   * freshly seeded random generator.
   */
  public Net(NetParameter netParam, NetState state) {
    this(netParam, state, Backend.cpu());
  }

  /** Builds the net, its layers drawing from {@code rng} (a seeded one reproduces the fillers). */
  public Net(NetParameter netParam, NetState state, Rng rng) {
    this(netParam, state, Backend.cpu(), rng);
  }

  /**
   * Builds the net for {@code state}, which decides the include/exclude rules (see
   * {@link #state(NetParameter, Phase, int, List)} for the state Caffe's tools use), with its own
   * freshly seeded random generator.
   */
  public Net(NetParameter netParam, NetState state, Backend backend) {
    this(netParam, state, backend, new Rng());
  }

  /**
   * Builds the net for {@code state} on {@code backend}; every layer draws its random numbers
   * (fillers now, dropout and data later) from {@code rng}, in net order. A {@link Solver} passes
   * its own generator to its train and test nets, so that its {@code random_seed} reproduces the
   * run regardless of the other nets built in this JVM; {@code rng} is not to be shared with nets
   * run by other threads.
   */
  public Net(NetParameter netParam, NetState state, Backend backend, Rng rng) {
    this.rng = Objects.requireNonNull(rng, "rng");
    this.device = Device.current();
    this.phase = state.getPhase();
    NetParameter filtered = NetFilter.insertSplits(NetFilter.filter(netParam, state));
    this.param = filtered;
    this.name = netParam.getName();
    LOG.log(Level.INFO, "Initializing net from parameters: name \"" + name + "\", phase " + phase
        + ", " + filtered.getLayerCount() + " layers");
    Set<String> available = new LinkedHashSet<>();
    Map<String, Boolean> blobNeedBackward = new HashMap<>();
    Map<String, Integer> ownerByParamName = new HashMap<>();
    List<Layer> paramOwnerLayers = new ArrayList<>();
    List<Integer> paramOwnerIndex = new ArrayList<>();

    for (int li = 0; li < filtered.getLayerCount(); li++) {
      LayerParameter lp = filtered.getLayer(li).toBuilder().setPhase(phase).build();
      if (lp.getPropagateDownCount() > 0 && lp.getPropagateDownCount() != lp.getBottomCount()) {
        throw new NetException("layer '" + lp.getName() + "': propagate_down must be given for every"
            + " bottom or none (" + lp.getBottomCount() + " bottoms, " + lp.getPropagateDownCount()
            + " values)");
      }
      Layer layer = LayerRegistry.create(lp);
      layer.setBackend(backend);
      layer.setDevice(device);
      layer.setRng(rng);
      layerIndex.putIfAbsent(lp.getName(), li);
      LOG.log(Level.DEBUG, "Creating Layer " + lp.getName());
      List<Blob> bottom = new ArrayList<>();
      boolean[] bnb = new boolean[lp.getBottomCount()];
      boolean needBackward = false;
      for (int b = 0; b < lp.getBottomCount(); b++) {
        String blobName = lp.getBottom(b);
        if (!blobsByName.containsKey(blobName)) {
          throw new NetException(layer, "Unknown bottom blob '" + blobName + "' (bottom index " + b + ")");
        }
        available.remove(blobName);
        bottom.add(blobsByName.get(blobName));
        boolean nb = blobNeedBackward.getOrDefault(blobName, false);
        if (lp.getPropagateDownCount() > 0) {
          nb = lp.getPropagateDown(b);
        }
        bnb[b] = nb;
        needBackward |= blobNeedBackward.getOrDefault(blobName, false);
      }
      List<Blob> top = new ArrayList<>();
      List<String> tnames = new ArrayList<>();
      for (int t = 0; t < lp.getTopCount(); t++) {
        String blobName = lp.getTop(t);
        boolean inPlace = t < lp.getBottomCount() && blobName.equals(lp.getBottom(t));
        Blob blob;
        if (inPlace) {
          blob = blobsByName.get(blobName);
        } else {
          if (blobsByName.containsKey(blobName)) {
            throw new NetException(layer, "Top blob '" + blobName + "' produced by multiple sources.");
          }
          blob = new Blob().named(blobName);
          blobsByName.put(blobName, blob);
        }
        available.add(blobName);
        top.add(blob);
        tnames.add(blobName);
        if ("Input".equals(lp.getType())) {
          inputNames.add(blobName);
        }
      }
      try {
        layer.setUp(bottom, top);
      } catch (NetException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new NetException(layer, e.getMessage(), e);
      }
      for (int pi = 0; pi < layer.blobs().size(); pi++) {
        layer.blobs().get(pi).named(lp.getName() + " param " + pi);
      }
      for (int t = 0; t < top.size(); t++) {
        LOG.log(Level.DEBUG, "Top shape: " + top.get(t).shapeString());
      }
      // Parameters: lr_mult ≠ 0 makes the layer need backward; named params are shared.
      int nParams = layer.blobs().size();
      if (lp.getParamCount() > nParams) {
        throw new NetException(layer, "Too many params specified for layer: " + lp.getParamCount()
            + " param entries for " + nParams + " parameter blobs");
      }
      for (int p = 0; p < nParams; p++) {
        ParamSpec spec = layer.paramSpec(p);
        boolean pnb = spec.getLrMult() != 0;
        needBackward |= pnb;
        layer.setParamPropagateDown(p, pnb);
      }
      for (int p = 0; p < nParams; p++) {
        ParamSpec spec = layer.paramSpec(p);
        String pname = spec.getName();
        Integer owner = pname.isEmpty() ? null : ownerByParamName.get(pname);
        if (owner == null) {
          if (!pname.isEmpty()) {
            ownerByParamName.put(pname, learnableParams.size());
          }
          learnableParams.add(layer.blobs().get(p));
          lrMults.add(spec.getLrMult());
          decayMults.add(spec.getDecayMult());
          paramOwnerLayers.add(layer);
          paramOwnerIndex.add(p);
        } else {
          Blob ownerBlob = learnableParams.get(owner);
          Blob mine = layer.blobs().get(p);
          if (spec.getShareMode() == ParamSpec.DimCheckMode.PERMISSIVE) {
            if (ownerBlob.count() != mine.count()) {
              throw new NetException(layer, "Cannot share param '" + pname + "' owned by layer '"
                  + paramOwnerLayers.get(owner).name() + "': count mismatch. Owner count "
                  + ownerBlob.count() + "; sharing count " + mine.count());
            }
            if (!Arrays.equals(ownerBlob.shape(), mine.shape())) {
              throw new NetException(layer, "PERMISSIVE sharing of '" + pname
                  + "' between different shapes is not supported (" + ownerBlob.shapeString()
                  + " vs " + mine.shapeString() + ")");
            }
          } else if (!Arrays.equals(ownerBlob.shape(), mine.shape())) {
            throw new NetException(layer, "Cannot share param '" + pname + "' owned by layer '"
                + paramOwnerLayers.get(owner).name() + "': shape mismatch. Owner shape "
                + ownerBlob.shapeString() + "; sharing shape " + mine.shapeString());
          }
          if (spec.hasLrMult() && spec.getLrMult() != lrMults.get(owner)) {
            throw new NetException(layer, "Shared param '" + pname + "' has mismatched lr_mult.");
          }
          if (spec.hasDecayMult() && spec.getDecayMult() != decayMults.get(owner)) {
            throw new NetException(layer, "Shared param '" + pname + "' has mismatched decay_mult.");
          }
          layer.blobs().set(p, ownerBlob);
        }
      }
      if (needBackward) {
        for (String t : tnames) {
          blobNeedBackward.put(t, true);
        }
      }
      layers.add(layer);
      bottoms.add(bottom);
      tops.add(top);
      topNames.add(tnames);
      bottomNeedBackward.add(bnb);
      layerNeedBackward.add(needBackward);
    }

    // Walk backwards: a layer whose tops reach no loss, or whose gradients nobody wants, skips
    // backward (Caffe's blobs_under_loss / blobs_skip_backp).
    Set<String> underLoss = new HashSet<>();
    Set<String> skipBackprop = new HashSet<>();
    for (int li = layers.size() - 1; li >= 0; li--) {
      Layer layer = layers.get(li);
      boolean contributesLoss = false;
      boolean skipPropagateDown = true;
      for (int t = 0; t < tops.get(li).size(); t++) {
        String blobName = topNames.get(li).get(t);
        if (layer.lossWeight(t) != 0 || underLoss.contains(blobName)) {
          contributesLoss = true;
        }
        if (!skipBackprop.contains(blobName)) {
          skipPropagateDown = false;
        }
      }
      boolean[] bnb = bottomNeedBackward.get(li);
      if (layerNeedBackward.get(li) && skipPropagateDown) {
        layerNeedBackward.set(li, false);
        Arrays.fill(bnb, false);
      }
      if (!contributesLoss) {
        layerNeedBackward.set(li, false);
      }
      LayerParameter lp = filtered.getLayer(li);
      for (int b = 0; b < bnb.length; b++) {
        if (contributesLoss) {
          underLoss.add(lp.getBottom(b));
        } else {
          bnb[b] = false;
        }
        if (!bnb[b]) {
          skipBackprop.add(lp.getBottom(b));
        }
      }
    }
    if (netParam.getForceBackward()) {
      for (int li = 0; li < layers.size(); li++) {
        layerNeedBackward.set(li, true);
        boolean[] bnb = bottomNeedBackward.get(li);
        for (int b = 0; b < bnb.length; b++) {
          bnb[b] = bnb[b] || layers.get(li).allowForceBackward(b);
        }
        for (int p = 0; p < layers.get(li).blobs().size(); p++) {
          layers.get(li).setParamPropagateDown(p, true);
        }
      }
    }
    // Caffe keeps the available blobs in a std::set, so outputs are listed by name.
    outputNames.addAll(new TreeSet<>(available));
    LOG.log(Level.INFO, "Network initialization done: " + name + " (" + phase + "), "
        + layers.size() + " layers, outputs " + outputNames);
  }

  /**
   * The state Caffe's {@code Net(file, phase, level, stages)} builds: the net's own state with the
   * phase replaced, the level set and the stages added.
   */
  public static NetState state(NetParameter netParam, Phase phase, int level, List<String> stages) {
    return netParam.getState().toBuilder().setPhase(phase).setLevel(level).addAllStage(stages).build();
  }

  /** The layers Caffe's include/exclude rules admit for {@code state}, as this net builds them. */
  public static NetParameter filter(NetParameter netParam, NetState state) {
    return NetFilter.filter(netParam, state);
  }

  public String name() {
    return name;
  }

  public Phase phase() {
    return phase;
  }

  /** The filtered NetParameter with its Split layers, as built. */
  public NetParameter param() {
    return param;
  }

  public List<Layer> layers() {
    return Collections.unmodifiableList(layers);
  }

  public Layer layer(String layerName) {
    Integer i = layerIndex.get(layerName);
    return i == null ? null : layers.get(i);
  }

  public List<Blob> topsOf(int layer) {
    return tops.get(layer);
  }

  public List<Blob> bottomsOf(int layer) {
    return bottoms.get(layer);
  }

  public boolean layerNeedsBackward(int layer) {
    return layerNeedBackward.get(layer);
  }

  public boolean[] bottomNeedsBackward(int layer) {
    return bottomNeedBackward.get(layer).clone();
  }

  public Blob blob(String blobName) {
    Blob b = blobsByName.get(blobName);
    if (b == null) {
      throw new NetException("net '" + name + "' has no blob named '" + blobName + "'");
    }
    return b;
  }

  public boolean hasBlob(String blobName) {
    return blobsByName.containsKey(blobName);
  }

  public List<String> blobNames() {
    return List.copyOf(blobsByName.keySet());
  }

  /** Blobs no layer consumes: the net's outputs, in the order Caffe lists them. */
  public List<String> outputNames() {
    return Collections.unmodifiableList(outputNames);
  }

  public List<String> inputNames() {
    return Collections.unmodifiableList(inputNames);
  }

  /** The loss weight of an output blob (0 for plain outputs such as accuracy). */
  public float outputLossWeight(String blobName) {
    for (int li = 0; li < layers.size(); li++) {
      List<String> names = topNames.get(li);
      for (int t = 0; t < names.size(); t++) {
        if (names.get(t).equals(blobName) && layers.get(li).lossWeight(t) != 0) {
          return layers.get(li).lossWeight(t);
        }
      }
    }
    return 0f;
  }

  public List<Blob> learnableParams() {
    return Collections.unmodifiableList(learnableParams);
  }

  public float lrMult(int i) {
    return lrMults.get(i);
  }

  public float decayMult(int i) {
    return decayMults.get(i);
  }

  /** Runs every layer forward; returns the total weighted loss. */
  public double forward() {
    double loss = 0;
    for (int i = 0; i < layers.size(); i++) {
      loss += forwardLayer(i);
    }
    return loss;
  }

  /** Runs layer {@code i} forward; returns its weighted loss. */
  public double forwardLayer(int i) {
    try {
      return layers.get(i).forward(bottoms.get(i), tops.get(i));
    } catch (NetException | DataException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new NetException(layers.get(i), "forward failed: " + e.getMessage(), e);
    }
  }

  /** Runs backward through every layer that needs it. */
  public void backward() {
    for (int i = layers.size() - 1; i >= 0; i--) {
      backwardLayer(i);
    }
  }

  /** Runs layer {@code i} backward if the backward plan says it needs to. */
  public void backwardLayer(int i) {
    Layer layer = layers.get(i);
    List<Blob> top = tops.get(i);
    for (int t = 0; t < top.size(); t++) {
      float w = layer.lossWeight(t);
      if (w != 0) {
        Arrays.fill(top.get(t).diff(), 0, top.get(t).count(), w);
      }
    }
    if (layerNeedBackward.get(i)) {
      layer.backward(top, bottomNeedBackward.get(i), bottoms.get(i));
    }
  }

  public double forwardBackward() {
    double loss = forward();
    backward();
    return loss;
  }

  /** Sets every parameter gradient to zero (Caffe's ClearParamDiffs). */
  public void clearParamDiffs() {
    for (Blob b : learnableParams) {
      b.zeroDiff();
    }
  }

  /** Reshapes every layer from its bottoms, after an input blob changed shape. */
  public void reshape() {
    for (int i = 0; i < layers.size(); i++) {
      layers.get(i).reshape(bottoms.get(i), tops.get(i));
    }
  }

  /**
   * Makes this net use {@code other}'s parameter blobs for every layer of the same name, so a
   * test net always sees the train net's current weights (Caffe's ShareTrainedLayersWith).
   */
  public void shareTrainedLayersWith(Net other) {
    for (Layer source : other.layers) {
      Layer target = layer(source.name());
      if (target == null) {
        continue;
      }
      if (target.blobs().size() != source.blobs().size()) {
        throw new NetException(target, "Incompatible number of blobs for layer " + source.name());
      }
      for (int j = 0; j < source.blobs().size(); j++) {
        Blob s = source.blobs().get(j);
        if (!Arrays.equals(s.shape(), target.blobs().get(j).shape())) {
          throw new NetException(target, "Cannot share param " + j + " weights from layer '"
              + source.name() + "'; shape mismatch. Source param shape is " + s.shapeString()
              + "; target param shape is " + target.blobs().get(j).shapeString());
        }
        target.blobs().set(j, s);
      }
    }
  }

  /**
   * Copies weights by layer name (Caffe's CopyTrainedLayersFrom): source layers this net lacks are
   * ignored with a log line; a blob count or shape mismatch fails, naming the layer and shapes.
   */
  public void copyTrainedLayersFrom(NetParameter trained) {
    for (LayerParameter source : trained.getLayerList()) {
      Layer target = layer(source.getName());
      if (target == null) {
        LOG.log(Level.INFO, "Ignoring source layer " + source.getName());
        continue;
      }
      if (target.blobs().size() != source.getBlobsCount()) {
        throw new NetException(target, "Incompatible number of blobs for layer " + source.getName()
            + ": the weights file has " + source.getBlobsCount() + ", the net expects "
            + target.blobs().size());
      }
      for (int j = 0; j < source.getBlobsCount(); j++) {
        BlobProto bp = source.getBlobs(j);
        Blob t = target.blobs().get(j);
        if (!t.accepts(bp)) {
          throw new NetException(target, "Cannot copy param " + j + " weights from layer '"
              + source.getName() + "'; shape mismatch. Source param shape is "
              + shapeString(Blob.shapeOf(bp)) + "; target param shape is " + t.shapeString()
              + ". To learn this layer's parameters from scratch rather than copying from a saved"
              + " net, rename the layer.");
        }
        t.fromProto(bp, false);
      }
    }
  }

  private static String shapeString(int[] shape) {
    long c = 1;
    StringBuilder sb = new StringBuilder();
    for (int d : shape) {
      sb.append(d).append(' ');
      c *= d;
    }
    return sb.append('(').append(c).append(')').toString();
  }

  /** The net as Caffe writes a .caffemodel: every layer's parameter plus its blobs. */
  public NetParameter toProto(boolean writeDiff) {
    NetParameter.Builder out = NetParameter.newBuilder().setName(name);
    for (Layer layer : layers) {
      LayerParameter.Builder lp = layer.param().toBuilder().clearBlobs();
      for (Blob b : layer.blobs()) {
        lp.addBlobs(b.toProto(writeDiff));
      }
      out.addLayer(lp);
    }
    return out.build();
  }

  /** Closes every layer's sources and prefetch threads. */
  @Override
  public void close() {
    for (Layer layer : layers) {
      layer.close();
    }
    if (device != null) {
      for (Blob b : blobsByName.values()) {
        b.releaseDevice();
      }
      for (Layer layer : layers) {
        for (Blob b : layer.blobs()) {
          b.releaseDevice();
        }
      }
    }
  }

  /** The generator this net's layers draw from (the solver's, for a solver's nets). */
  public Rng rng() {
    return rng;
  }

  /** The device this net runs on (the thread's {@link Device#current()} when built); null: CPU. */
  public Device device() {
    return device;
  }

  /** Copies the values of every output blob, by name. */
  public Map<String, float[]> outputs() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String n : outputNames) {
      Blob b = blobsByName.get(n);
      out.put(n, Arrays.copyOf(b.data(), b.count()));
    }
    return out;
  }
}
