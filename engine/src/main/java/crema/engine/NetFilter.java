package crema.engine;

import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.NetState;
import caffe.Caffe.NetStateRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Net-building steps that rewrite the NetParameter: Caffe's FilterNet and InsertSplits. */
final class NetFilter {
  private NetFilter() {}

  /** Keeps the layers whose include/exclude rules the state meets (Caffe's Net::FilterNet). */
  static NetParameter filter(NetParameter param, NetState state) {
    NetParameter.Builder out = param.toBuilder().clearLayer();
    for (LayerParameter layer : param.getLayerList()) {
      if (layer.getIncludeCount() > 0 && layer.getExcludeCount() > 0) {
        throw new NetException("layer '" + layer.getName()
            + "': Specify either include rules or exclude rules; not both.");
      }
      boolean include = layer.getIncludeCount() == 0;
      for (NetStateRule rule : layer.getExcludeList()) {
        if (meets(state, rule)) {
          include = false;
        }
      }
      for (NetStateRule rule : layer.getIncludeList()) {
        if (meets(state, rule)) {
          include = true;
        }
      }
      if (include) {
        out.addLayer(layer);
      }
    }
    return out.build();
  }

  static boolean meets(NetState state, NetStateRule rule) {
    if (rule.hasPhase() && rule.getPhase() != state.getPhase()) {
      return false;
    }
    if (rule.hasMinLevel() && state.getLevel() < rule.getMinLevel()) {
      return false;
    }
    if (rule.hasMaxLevel() && state.getLevel() > rule.getMaxLevel()) {
      return false;
    }
    for (String stage : rule.getStageList()) {
      if (!state.getStageList().contains(stage)) {
        return false;
      }
    }
    for (String stage : rule.getNotStageList()) {
      if (state.getStageList().contains(stage)) {
        return false;
      }
    }
    return true;
  }

  record TopId(int layer, int top) {}

  /**
   * Inserts a Split layer wherever one top feeds several bottoms (or feeds a bottom and carries a
   * loss weight), naming layers and blobs as Caffe's InsertSplits does.
   */
  static NetParameter insertSplits(NetParameter param) {
    Map<String, TopId> lastTop = new HashMap<>();
    Map<Long, TopId> bottomSource = new HashMap<>();
    Map<TopId, Integer> consumers = new HashMap<>();
    Map<TopId, Float> lossWeight = new HashMap<>();
    Map<TopId, Integer> nextSplit = new HashMap<>();
    List<LayerParameter> layers = param.getLayerList();
    for (int i = 0; i < layers.size(); i++) {
      LayerParameter layer = layers.get(i);
      for (int j = 0; j < layer.getBottomCount(); j++) {
        String blob = layer.getBottom(j);
        TopId source = lastTop.get(blob);
        if (source == null) {
          throw new NetException("layer '" + layer.getName() + "' (" + layer.getType()
              + "): Unknown bottom blob '" + blob + "' (bottom index " + j
              + "): no earlier layer produces it");
        }
        bottomSource.put(key(i, j), source);
        consumers.merge(source, 1, Integer::sum);
      }
      for (int j = 0; j < layer.getTopCount(); j++) {
        lastTop.put(layer.getTop(j), new TopId(i, j));
      }
      for (int j = 0; j < layer.getLossWeightCount() && j < layer.getTopCount(); j++) {
        if (layer.getLossWeight(j) != 0) {
          TopId t = new TopId(i, j);
          lossWeight.put(t, layer.getLossWeight(j));
          consumers.merge(t, 1, Integer::sum);
        }
      }
    }
    NetParameter.Builder out = param.toBuilder().clearLayer();
    for (int i = 0; i < layers.size(); i++) {
      LayerParameter.Builder layer = layers.get(i).toBuilder();
      for (int j = 0; j < layer.getBottomCount(); j++) {
        TopId source = bottomSource.get(key(i, j));
        if (consumers.getOrDefault(source, 0) > 1) {
          String producer = layers.get(source.layer()).getName();
          int k = nextSplit.merge(source, 1, Integer::sum) - 1;
          layer.setBottom(j, splitBlobName(producer, layer.getBottom(j), source.top(), k));
        }
      }
      List<LayerParameter> splits = new ArrayList<>();
      for (int j = 0; j < layer.getTopCount(); j++) {
        TopId t = new TopId(i, j);
        int count = consumers.getOrDefault(t, 0);
        if (count > 1) {
          String blob = layer.getTop(j);
          float lw = lossWeight.getOrDefault(t, 0f);
          LayerParameter.Builder split = LayerParameter.newBuilder()
              .setName(splitLayerName(layer.getName(), blob, j))
              .setType("Split")
              .addBottom(blob);
          for (int k = 0; k < count; k++) {
            split.addTop(splitBlobName(layer.getName(), blob, j, k));
            if (lw != 0) {
              split.addLossWeight(k == 0 ? lw : 0f);
            }
          }
          if (lw != 0) {
            layer.clearLossWeight();
            nextSplit.merge(t, 1, Integer::sum);
          }
          splits.add(split.build());
        }
      }
      out.addLayer(layer.build());
      splits.forEach(out::addLayer);
    }
    return out.build();
  }

  private static long key(int layer, int bottom) {
    return ((long) layer << 32) | bottom;
  }

  static String splitLayerName(String layer, String blob, int topIndex) {
    return blob + "_" + layer + "_" + topIndex + "_split";
  }

  static String splitBlobName(String layer, String blob, int topIndex, int splitIndex) {
    return blob + "_" + layer + "_" + topIndex + "_split_" + splitIndex;
  }
}
