package crema.trainer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A job names topics, never paths on the trainer's disk; its texts are of bounded size. */
class JobPolicyTest {
  static final String SOLVER = "base_lr: 0.01 max_iter: 10 lr_policy: 'fixed'";
  static final String NET = """
      layer { name: "data" type: "Data" top: "data" top: "label"
        data_param { source: "crema.datums.otto.train" batch_size: 8 backend: KAFKA } }
      layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
      layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
      """;

  static String refused(String solver, String net, long max) {
    return assertThrows(IllegalArgumentException.class,
        () -> JobPolicy.check(new JobSpec("m", solver, net, null, null), max)).getMessage();
  }

  @Test
  void aKafkaJobPasses() {
    JobPolicy.check(new JobSpec("m", SOLVER, NET, null, null), 1 << 20);
  }

  @Test
  void dataLayersOnDiskAreRefusedNamingTheLayerAndPath() {
    String m = refused(SOLVER, NET.replace("crema.datums.otto.train", "/etc/lmdb").replace("KAFKA", "LMDB"), 1 << 20);
    assertTrue(m.contains("net layer 'data' (Data): data_param.backend LMDB opens '/etc/lmdb'"), m);
  }

  @Test
  void layersThatReadOrWriteFilesAreRefused() {
    String m = refused(SOLVER, NET + "layer { name: 'out' type: 'HDF5Output' bottom: 'ip' bottom: 'label'"
        + " hdf5_output_param { file_name: '/tmp/x.h5' } }", 1 << 20);
    assertTrue(m.contains("net layer 'out' (HDF5Output) reads or writes files by path"), m);
    m = refused(SOLVER, NET.replace("backend: KAFKA }", "backend: KAFKA } transform_param { mean_file: '/etc/passwd' }"),
        1 << 20);
    assertTrue(m.contains("transform_param.mean_file is a path on the trainer's disk"), m);
  }

  @Test
  void solverFieldsThatNameFilesAreRefused() {
    for (String field : new String[] {"net: '/etc/net.prototxt'", "train_net: 'a'", "test_net: 'b'", "weights: 'w'"}) {
      String m = refused(SOLVER + " " + field, NET, 1 << 20);
      assertTrue(m.contains("solver field '" + field.substring(0, field.indexOf(':')) + "' names a file"), m);
    }
  }

  @Test
  void prototxtTextsAreBounded() {
    String m = refused(SOLVER, NET, 100);
    assertTrue(m.contains("the net prototxt is " + NET.length() + " bytes; the limit is 100"
        + " (crema.trainer.max-prototxt-bytes)"), m);
  }
}
