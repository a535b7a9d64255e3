package crema.bus;

/** One topic as Crema declares it: a name and the {@link TopicKind} whose settings it gets. */
public record TopicSpec(String name, TopicKind kind) {
  public TopicSpec {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a topic needs a name");
    }
  }
}
