package crema.trainer;

import caffe.Caffe.DataParameter.DB;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.SolverParameter;
import crema.engine.io.Prototxt;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * What a job sent over the network may ask of the trainer: prototxt texts of bounded size, and
 * nothing that makes the service open a file by a path the sender chose. Caffe reads and writes
 * files by path in many places (LMDB/LevelDB sources, HDF5 and image lists, mean files, solver
 * net files, initial weights); a job names topics instead, and its snapshots are checkpoint
 * records. Every refusal names the field and the layer.
 */
final class JobPolicy {
  /** Layer types whose parameters are paths on the machine that runs them. */
  static final Set<String> FILE_LAYERS = Set.of("HDF5Data", "HDF5Output", "ImageData", "WindowData", "Python");

  private JobPolicy() {}

  static void check(JobSpec spec, long maxPrototxtBytes) {
    size("solver", spec.solver(), maxPrototxtBytes);
    size("net", spec.net(), maxPrototxtBytes);
    size("deploy", spec.deploy(), maxPrototxtBytes);
    SolverParameter solver = Prototxt.parseSolver(spec.solver(), spec.model() + " solver");
    for (String field : new String[] {"net", "train_net", "test_net", "weights"}) {
      var f = SolverParameter.getDescriptor().findFieldByName(field);
      if (f.isRepeated() ? solver.getRepeatedFieldCount(f) > 0 : solver.hasField(f)) {
        throw new IllegalArgumentException("solver field '" + field + "' names a file on the trainer's disk; a job"
            + " gives its net as text in \"net\" and starts from its model's newest checkpoint");
      }
    }
    if (solver.hasTrainNetParam() || solver.getTestNetParamCount() > 0 || solver.hasNetParam()) {
      throw new IllegalArgumentException("the solver carries its own net; a job gives its net in \"net\"");
    }
    checkNet("net", Prototxt.parseNet(spec.net(), spec.model() + " net"));
    if (spec.deploy() != null && !spec.deploy().isBlank()) {
      checkNet("deploy", Prototxt.parseNet(spec.deploy(), spec.model() + " deploy net"));
    }
  }

  private static void size(String field, String text, long max) {
    if (text != null && text.getBytes(StandardCharsets.UTF_8).length > max) {
      throw new IllegalArgumentException("the " + field + " prototxt is " + text.getBytes(StandardCharsets.UTF_8).length
          + " bytes; the limit is " + max + " (crema.trainer.max-prototxt-bytes)");
    }
  }

  private static void checkNet(String which, NetParameter net) {
    for (LayerParameter l : net.getLayerList()) {
      String where = which + " layer '" + l.getName() + "' (" + l.getType() + ")";
      if (FILE_LAYERS.contains(l.getType())) {
        throw new IllegalArgumentException(where + " reads or writes files by path; jobs read topics with"
            + " Data layers (data_param { backend: KAFKA })");
      }
      if (l.getType().equals("Data") && l.getDataParam().getBackend() != DB.KAFKA) {
        throw new IllegalArgumentException(where + ": data_param.backend " + l.getDataParam().getBackend()
            + " opens '" + l.getDataParam().getSource() + "' on the trainer's disk; jobs read topics: backend: KAFKA");
      }
      if (l.hasTransformParam() && l.getTransformParam().hasMeanFile()) {
        throw new IllegalArgumentException(where + ": transform_param.mean_file is a path on the trainer's disk;"
            + " give mean_value instead");
      }
    }
  }
}
