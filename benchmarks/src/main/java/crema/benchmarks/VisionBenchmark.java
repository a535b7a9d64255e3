package crema.benchmarks;

import caffe.Caffe.BlobShape;
import caffe.Caffe.InputParameter;
import caffe.Caffe.LayerParameter;
import caffe.Caffe.NetParameter;
import caffe.Caffe.Phase;
import crema.engine.Net;
import crema.engine.io.Prototxt;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One forward and one backward pass of a vision net's TRAIN phase, what {@code caffe time}
 * measures (no solver update): Caffe's LeNet (examples/mnist/lenet_train_test.prototxt, its Data
 * layer replaced by an Input layer of the same shapes, batch 64) and CIFAR-10 quick
 * (examples/model-zoo/cifar10_quick_input.prototxt, batch 100). Weights from the prototxts'
 * fillers; the inputs are uniform in [0, 1) and the labels uniform over the 10 classes, drawn once
 * (reference/torch_vision.py feeds PyTorch the same kind of batch). Run from the repository root.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class VisionBenchmark {
  @Param({"lenet", "cifar10_quick"})
  public String net;

  private Net model;

  /** The net's TRAIN phase with its Data layers (if any) replaced by one Input layer of {@code data} and {@code label}. */
  static NetParameter trainNet(String name) {
    NetParameter p = switch (name) {
      case "lenet" -> withInput(Prototxt.readNet(Path.of("examples/mnist/lenet_train_test.prototxt")), 64, 1, 28, 28);
      case "cifar10_quick" -> Prototxt.readNet(Path.of("examples/model-zoo/cifar10_quick_input.prototxt"));
      default -> throw new IllegalArgumentException("no vision net " + name);
    };
    return Net.filter(p, Net.state(p, Phase.TRAIN, 0, List.of()));
  }

  private static NetParameter withInput(NetParameter p, int... dataShape) {
    NetParameter.Builder b = p.toBuilder().clearLayer();
    b.addLayer(LayerParameter.newBuilder().setName("data").setType("Input").addTop("data").addTop("label")
        .setInputParam(InputParameter.newBuilder()
            .addShape(BlobShape.newBuilder().addDim(dataShape[0]).addDim(dataShape[1]).addDim(dataShape[2]).addDim(dataShape[3]))
            .addShape(BlobShape.newBuilder().addDim(dataShape[0]))));
    p.getLayerList().stream().filter(l -> !l.getType().equals("Data")).forEach(b::addLayer);
    return b.build();
  }

  @Setup(Level.Trial)
  public void setUp() {
    NetParameter p = trainNet(net);
    model = new Net(p, Net.state(p, Phase.TRAIN, 0, List.of()));
    SplittableRandom random = new SplittableRandom(1);
    float[] data = model.blob("data").data();
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextDouble();
    }
    float[] label = model.blob("label").data();
    for (int i = 0; i < label.length; i++) {
      label[i] = random.nextInt(10);
    }
  }

  @Benchmark
  public double forwardBackward() {
    double loss = model.forward();
    model.backward();
    return loss;
  }

  @TearDown
  public void tearDown() {
    model.close();
  }
}
