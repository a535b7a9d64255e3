package crema.engine.fuzz;

import caffe.Caffe.Datum;
import caffe.Caffe.Phase;
import caffe.Caffe.TransformationParameter;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import com.google.protobuf.InvalidProtocolBufferException;
import crema.engine.DataException;
import crema.engine.data.DatumTransformer;

/**
 * A record read from LMDB or a Kafka topic as a Data layer reads it: decoded, checked, shaped and
 * transformed into a buffer of the size its shape gives.
 */
class DatumFuzzTest {
  @FuzzTest(maxDuration = "25s")
  void anyRecordIsAnItemOrAReason(@NotNull byte[] record) {
    long start = Fuzzing.start();
    Datum d;
    try {
      d = Datum.parseFrom(record);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    DatumTransformer t = new DatumTransformer(TransformationParameter.newBuilder().setScale(0.5f).build(), Phase.TEST);
    try {
      t.check(d, () -> "fuzzed record");
      int[] shape = t.itemShape(d);
      float[] out = new float[shape[0] * shape[1] * shape[2]];
      t.transform(d, out, 0);
    } catch (DataException e) {
      if (!e.getMessage().contains("fuzzed record") && !e.getMessage().contains("Datum")
          && !e.getMessage().contains("crop_size")) {
        throw new AssertionError("a refusal that does not say which record: " + e.getMessage());
      }
    }
    Fuzzing.inTime(start, "Datum decoding", record.length + " bytes");
  }
}
