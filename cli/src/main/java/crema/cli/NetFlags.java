package crema.cli;

import picocli.CommandLine.Option;

/** The flags that choose and place a net, shared by test and time: -model, -gpu, -level, -stage. */
final class NetFlags {
  @Option(names = {"-model", "--model"}, required = true, description = "The model definition protocol buffer text file.")
  String model;

  @Option(names = {"-gpu", "--gpu"}, defaultValue = "", description = "GPU device id; empty: the CPU.")
  String gpu;

  @Option(names = {"-level", "--level"}, defaultValue = "0", description = "NetState level.")
  int level;

  @Option(names = {"-stage", "--stage"}, defaultValue = "", description = "NetState stages, comma-separated.")
  String stage;
}
