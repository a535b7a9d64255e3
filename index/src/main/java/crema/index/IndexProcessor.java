package crema.index;

import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.RoundEnvironment;
import javax.annotation.processing.SupportedAnnotationTypes;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.AnnotationValue;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic;
import javax.tools.FileObject;
import javax.tools.StandardLocation;

/**
 * Collects the classes annotated with the engine's registration annotations into one index file
 * per annotation, {@code META-INF/crema/<index>}, one {@code type=class} line per class, sorted by
 * type. The engine's registries read these files at run time; no source file lists the classes.
 *
 * <p>The processor knows the annotations by name only, so this module depends on nothing.
 */
@SupportedAnnotationTypes({IndexProcessor.LAYER_TYPE, IndexProcessor.SOLVER_TYPE})
public final class IndexProcessor extends AbstractProcessor {
  static final String LAYER_TYPE = "crema.engine.LayerType";
  static final String SOLVER_TYPE = "crema.engine.SolverType";
  private static final Map<String, String> INDEX_FILES =
      Map.of(LAYER_TYPE, "META-INF/crema/layer-types", SOLVER_TYPE, "META-INF/crema/solver-types");

  private final Map<String, Map<String, String>> found = new LinkedHashMap<>();

  /** Creates the processor; javac finds it through {@code META-INF/services}. */
  public IndexProcessor() {}

  @Override
  public SourceVersion getSupportedSourceVersion() {
    return SourceVersion.latestSupported();
  }

  @Override
  public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
    for (TypeElement annotation : annotations) {
      String name = annotation.getQualifiedName().toString();
      Map<String, String> index = found.computeIfAbsent(name, n -> new TreeMap<>());
      for (Element e : round.getElementsAnnotatedWith(annotation)) {
        String type = value(e, name);
        String cls = processingEnv.getElementUtils().getBinaryName((TypeElement) e).toString();
        String earlier = index.put(type, cls);
        if (earlier != null && !earlier.equals(cls)) {
          processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR,
              "type \"" + type + "\" is registered twice: by " + earlier + " and by " + cls, e);
        }
      }
    }
    if (round.processingOver()) {
      for (Map.Entry<String, Map<String, String>> entry : found.entrySet()) {
        write(INDEX_FILES.get(entry.getKey()), entry.getValue());
      }
    }
    return false;
  }

  private static String value(Element e, String annotation) {
    for (AnnotationMirror m : e.getAnnotationMirrors()) {
      if (((TypeElement) m.getAnnotationType().asElement()).getQualifiedName().contentEquals(annotation)) {
        for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> v
            : m.getElementValues().entrySet()) {
          if (v.getKey().getSimpleName().contentEquals("value")) {
            return v.getValue().getValue().toString();
          }
        }
      }
    }
    throw new IllegalStateException(e + " has no " + annotation + " value");
  }

  private void write(String file, Map<String, String> index) {
    if (index.isEmpty()) {
      return;
    }
    try {
      FileObject out = processingEnv.getFiler().createResource(StandardLocation.CLASS_OUTPUT, "", file);
      try (Writer w = out.openWriter()) {
        w.write("# Written by crema.index.IndexProcessor at compile time; do not edit.\n");
        for (Map.Entry<String, String> e : index.entrySet()) {
          w.write(e.getKey() + "=" + e.getValue() + "\n");
        }
      }
    } catch (IOException e) {
      processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR, "cannot write " + file + ": " + e);
    }
  }
}
