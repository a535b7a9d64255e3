package crema.engine.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import crema.engine.io.ProtoFormatException;
import crema.engine.io.Prototxt;

/** The prototxt reader every net and solver goes through, upgrades included. */
class PrototxtFuzzTest {
  @FuzzTest(maxDuration = "25s")
  @DictionaryEntries({"layer {", "layers {", "}", "name: \"a\"", "type: \"InnerProduct\"", "bottom: ", "top: ",
      "input_param { shape { dim: 1 } }", "include { phase: TEST }", "inner_product_param { num_output: 3 }",
      "input_dim: 2", "input: \"x\"", "base_lr: 0.1", "solver_type: SGD", "#", "\\", "\""})
  void anyTextIsANetOrAnError(@NotNull String text) {
    long start = Fuzzing.start();
    try {
      Prototxt.parseNet(text, "fuzz.prototxt");
    } catch (ProtoFormatException e) {
      if (!e.getMessage().contains("fuzz.prototxt")) {
        throw new AssertionError("the error does not name the file: " + e.getMessage());
      }
    }
    try {
      Prototxt.parseSolver(text, "fuzz_solver.prototxt");
    } catch (ProtoFormatException e) {
      // refused with a reason: fine
    }
    Fuzzing.inTime(start, "prototxt parsing", text.length() + " chars");
  }
}
