package crema.engine;

import java.util.Random;

/**
 * The engine's random number source, Caffe's global RNG: fillers, dropout and shuffling draw from
 * it in net order, so a given {@code random_seed} reproduces a run exactly.
 */
public final class Rng {
  private static Random random = new Random();

  private Rng() {}

  /** Seeds the generator (solver random_seed ≥ 0). */
  public static synchronized void seed(long seed) {
    random = new Random(seed);
  }

  public static synchronized Random get() {
    return random;
  }

  public static synchronized float uniform(float a, float b) {
    return a + (b - a) * random.nextFloat();
  }

  public static synchronized float gaussian(float mean, float std) {
    return (float) (mean + std * random.nextGaussian());
  }

  public static synchronized long nextLong() {
    return random.nextLong();
  }
}
