package crema.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Protobuf messages as the proto3 JSON mapping writes them (what protobuf-java-util's
 * {@code JsonFormat.printer()} gives): fields by their JSON name, fields at their default left out,
 * 64-bit integers as strings, enums by name, bytes in base64, maps as objects. So a model contract
 * written by the client reads back with {@code JsonFormat.parser()} or Python's
 * {@code google.protobuf.json_format.Parse}.
 */
public final class ProtoJson {
  private ProtoJson() {}

  /** The message as JSON text, indented by two spaces per level. */
  public static String print(Message m) {
    StringBuilder b = new StringBuilder();
    pretty(b, toValue(m), 0);
    return b.append('\n').toString();
  }

  /** The message as Maps, Lists, Strings, Numbers and Booleans. */
  public static Map<String, Object> toValue(Message m) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      if (f.isMapField()) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (Object o : (List<?>) e.getValue()) {
          MapEntry<?, ?> entry = (MapEntry<?, ?>) o;
          FieldDescriptor vf = f.getMessageType().findFieldByName("value");
          map.put(String.valueOf(entry.getKey()), scalar(vf, entry.getValue()));
        }
        out.put(f.getJsonName(), map);
      } else if (f.isRepeated()) {
        out.put(f.getJsonName(), ((List<?>) e.getValue()).stream().map(v -> scalar(f, v)).toList());
      } else {
        out.put(f.getJsonName(), scalar(f, e.getValue()));
      }
    }
    return out;
  }

  private static Object scalar(FieldDescriptor f, Object v) {
    return switch (f.getJavaType()) {
      case MESSAGE -> toValue((Message) v);
      case ENUM -> ((EnumValueDescriptor) v).getName();
      case BYTE_STRING -> Base64.getEncoder().encodeToString(((ByteString) v).toByteArray());
      case LONG -> String.valueOf(v);
      case INT -> f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
          ? Integer.toUnsignedLong((Integer) v) : v;
      default -> v;
    };
  }

  private static void pretty(StringBuilder b, Object v, int depth) {
    String in = "  ".repeat(depth + 1);
    if (v instanceof Map<?, ?> m && !m.isEmpty()) {
      b.append("{\n");
      int k = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.append(in);
        Json.quote(b, String.valueOf(e.getKey()));
        b.append(": ");
        pretty(b, e.getValue(), depth + 1);
        b.append(++k < m.size() ? ",\n" : "\n");
      }
      b.append("  ".repeat(depth)).append('}');
    } else if (v instanceof List<?> l && !l.isEmpty()) {
      b.append("[");
      for (int k = 0; k < l.size(); k++) {
        b.append(k == 0 ? "" : ", ");
        pretty(b, l.get(k), depth + 1);
      }
      b.append(']');
    } else {
      Json.write(b, v);
    }
  }
}
