package crema.visualizer;

import io.micronaut.runtime.Micronaut;

/** The visualizer service: follows the pipeline's topics and serves the live dashboard. */
public final class VisualizerApplication {
  private VisualizerApplication() {}

  public static void main(String[] args) {
    Micronaut.run(VisualizerApplication.class, args);
  }
}
