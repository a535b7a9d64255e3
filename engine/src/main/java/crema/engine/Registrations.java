package crema.engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reads the registration indexes the {@code crema-index} processor writes
 * ({@code META-INF/crema/layer-types}, {@code META-INF/crema/solver-types}: {@code type=class}
 * lines) from every jar on the class path, and turns each class into a factory of its
 * one-argument constructor.
 */
final class Registrations {
  private Registrations() {}

  /** The factories of an index, by type string, sorted; the constructor takes {@code argument}. */
  static <A, T> Map<String, Function<A, T>> load(String index, Class<A> argument, Class<T> base) {
    Map<String, Function<A, T>> factories = new TreeMap<>();
    ClassLoader loader = Registrations.class.getClassLoader();
    try {
      for (URL url : Collections.list(loader.getResources("META-INF/crema/" + index))) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(url.openStream(), StandardCharsets.UTF_8))) {
          for (String line = r.readLine(); line != null; line = r.readLine()) {
            line = line.strip();
            int eq = line.indexOf('=');
            if (line.isEmpty() || line.startsWith("#") || eq < 0) {
              continue;
            }
            factories.put(line.substring(0, eq), factory(line.substring(eq + 1), loader, argument, base));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the " + index + " index", e);
    }
    return factories;
  }

  private static <A, T> Function<A, T> factory(String className, ClassLoader loader, Class<A> argument,
      Class<T> base) {
    Constructor<? extends T> constructor;
    try {
      constructor = Class.forName(className, false, loader).asSubclass(base).getDeclaredConstructor(argument);
      constructor.setAccessible(true);
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalStateException("registered class " + className + " is not a " + base.getSimpleName()
          + " with a constructor taking " + argument.getSimpleName(), e);
    }
    return a -> {
      try {
        return constructor.newInstance(a);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException(e.getCause());
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot create " + className, e);
      }
    };
  }
}
