package crema.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's house rules, read from its compiled classes: no package cycle, no import of a
 * module beside or above it, the public types ARCHITECTURE.md lists and no others, and every layer
 * type registered through its own file.
 */
class ArchitectureTest {
  private static JavaClasses engine;

  @BeforeAll
  static void importEngine() {
    engine = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("crema.engine");
  }

  /** One slice per package, the root package included. */
  private static final SliceAssignment PACKAGES = new SliceAssignment() {
    @Override
    public SliceIdentifier getIdentifierOf(JavaClass c) {
      return c.getPackageName().startsWith("crema.engine") ? SliceIdentifier.of(c.getPackageName())
          : SliceIdentifier.ignore();
    }

    @Override
    public String getDescription() {
      return "the engine's packages";
    }
  };

  @Test
  void noPackageCycle() {
    slices().assignedFrom(PACKAGES).should().beFreeOfCycles().check(engine);
  }

  @Test
  void noSidewaysOrUpwardModuleImport() {
    noClasses().that().resideInAPackage("crema.engine..").should().dependOnClassesThat()
        .resideInAnyPackage("crema.gpu..", "crema.cli..", "crema.bus..", "crema.ingest..",
            "crema.trainer..", "crema.inference..", "crema.visualizer..", "crema.up..",
            "crema.benchmarks..", "crema.pipeline..", "crema.index..", "org.apache.kafka..",
            "io.micronaut..")
        .check(engine);
  }

  @Test
  void publicTypesAreTheOnesArchitectureMdLists() throws IOException {
    Set<String> actual = engine.stream()
        .filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC) && c.isTopLevelClass())
        .map(JavaClass::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(listedPublicTypes(), actual, "the engine's public types (ARCHITECTURE.md, section "
        + "\"The engine's public types\")");
  }

  /**
   * Every concrete Layer class carries its @LayerType, and the registry holds exactly those types:
   * nothing unregistered, nothing stale, and no number here to raise when a layer is added.
   */
  @Test
  void everyLayerTypeIsRegistered() {
    Set<String> annotated = new TreeSet<>();
    for (JavaClass c : engine) {
      if (c.isAssignableTo(Layer.class) && !c.getModifiers().contains(JavaModifier.ABSTRACT)
          && !c.isEquivalentTo(Layer.class)) {
        assertTrue(c.isAnnotatedWith(LayerType.class), c.getName() + " has no @LayerType");
        annotated.add(c.getAnnotationOfType(LayerType.class).value());
      }
    }
    assertTrue(annotated.size() >= 41, "the layers Caffe's MLP nets use: " + annotated);
    assertEquals(annotated, LayerRegistry.types());
  }

  private static Set<String> listedPublicTypes() throws IOException {
    Path md = Path.of("..", "ARCHITECTURE.md");
    String text = Files.readString(md);
    int start = text.indexOf("## The engine's public types");
    int end = text.indexOf("\n## ", start + 1);
    String section = text.substring(start, end < 0 ? text.length() : end);
    Set<String> listed = new TreeSet<>();
    Matcher m = Pattern.compile("`(crema\\.engine\\.[\\w.]+)`").matcher(section);
    while (m.find()) {
      listed.add(m.group(1));
    }
    return listed;
  }
}
