package crema.engine;

import java.util.Random;

/**
 * A random number source, owned by one solver or one net: Caffe's per-solver RNG. Fillers,
 * dropout, DummyData and HDF5Data shuffling draw from the generator of the net their layer belongs
 * to, in net order, so a given {@code random_seed} reproduces a run exactly.
 *
 * <p>There is deliberately no process-wide generator: with one, a net built by another service in
 * the same JVM (an inference Predictor, the dashboard) would shift a training run's random stream,
 * and two solvers in one JVM could not train reproducibly side by side. A {@link Solver} owns one
 * generator, shared by its train net and test nets (which draw from it in Caffe's order: fillers
 * of the train net, then of the test nets, then dropout and data during training); a net built on
 * its own owns its own; a data transformer (random crop and mirror, run in the prefetch thread)
 * owns one seeded from its net's generator at set-up, as Caffe's DataTransformer::InitRand seeds
 * from caffe_rng_rand(), so the prefetch thread never shares a generator with the compute thread.
 *
 * <p>The draws are those of {@link java.util.Random}; an instance is meant to be used by the one
 * thread that builds and runs its nets.
 */
public final class Rng {
  private final Random random;

  /** A generator seeded with {@code seed}: the same seed gives the same stream. */
  public Rng(long seed) {
    this.random = new Random(seed);
  }

  /** A generator with a fresh random seed (Caffe's behaviour when random_seed is negative). */
  public Rng() {
    this.random = new Random();
  }

  /** The generator as a {@link Random}, for shuffles and integer draws. */
  public Random random() {
    return random;
  }

  /** A float uniform in [a, b). */
  public float uniform(float a, float b) {
    return a + (b - a) * random.nextFloat();
  }

  /** A float drawn from N(mean, std²). */
  public float gaussian(float mean, float std) {
    return (float) (mean + std * random.nextGaussian());
  }

  public long nextLong() {
    return random.nextLong();
  }
}
