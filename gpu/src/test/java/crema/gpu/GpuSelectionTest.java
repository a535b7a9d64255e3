package crema.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GpuSelectionTest {
  @Test
  void caffesSpellings() {
    assertEquals(List.of(), GpuSelection.parse("", 2));
    assertEquals(List.of(0), GpuSelection.parse("0", 2));
    assertEquals(List.of(1, 0), GpuSelection.parse("1,0", 2));
    assertEquals(List.of(0, 1, 2), GpuSelection.parse("all", 3));
    assertEquals(List.of(), GpuSelection.parse("all", 0));
  }

  @Test
  void devicesTheMachineLacksAreNamed() {
    String m = assertThrows(IllegalArgumentException.class, () -> GpuSelection.parse("0,2", 2)).getMessage();
    assertTrue(m.contains("there is no device 2; this machine shows 2 (ids 0 to 1"), m);
    m = assertThrows(IllegalArgumentException.class, () -> GpuSelection.parse("x", 2)).getMessage();
    assertTrue(m.contains("'x' is not a device id"), m);
    m = assertThrows(IllegalArgumentException.class, () -> GpuSelection.parse("1,1", 2)).getMessage();
    assertTrue(m.contains("device 1 is named twice"), m);
  }
}
