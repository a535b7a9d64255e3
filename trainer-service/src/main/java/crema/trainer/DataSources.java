package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import crema.bus.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Whether the topics a job's Data layers read hold records yet. */
final class DataSources {
  private DataSources() {}

  /** Why the job cannot start yet (naming the layer and topic), or null when every source has records. */
  static String notReady(KafkaClients clients, NetParameter net) {
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-trainer-sources")) {
      for (LayerParameter l : net.getLayerList()) {
        if (!l.hasDataParam() || l.getDataParam().getBackend() != DB.KAFKA) {
          continue;
        }
        String topic = l.getDataParam().getSource();
        List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofSeconds(10));
        String layer = "layer '" + l.getName() + "'" + Jobs.phases(l);
        if (parts == null || parts.isEmpty()) {
          return layer + ": topic '" + topic + "' does not exist yet";
        }
        List<TopicPartition> tps = parts.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, Long> begin = c.beginningOffsets(tps);
        Map<TopicPartition, Long> end = c.endOffsets(tps);
        if (tps.stream().allMatch(tp -> end.get(tp) <= begin.get(tp))) {
          return layer + ": topic '" + topic + "' holds no records yet";
        }
      }
      return null;
    }
  }

  /** The partition count of every topic the net's Data layers read (a checkpoint records an offset for each). */
  static Map<String, Integer> partitions(KafkaClients clients, NetParameter net) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    try (KafkaConsumer<String, byte[]> c = clients.consumer("crema-trainer-sources")) {
      for (LayerParameter l : net.getLayerList()) {
        if (l.hasDataParam() && l.getDataParam().getBackend() == DB.KAFKA) {
          String topic = l.getDataParam().getSource();
          List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofSeconds(10));
          out.put(topic, parts == null ? 0 : parts.size());
        }
      }
    }
    return out;
  }
}
