package io.turnpike.config.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/** The two PATCH flavours: JSON merge (RFC 7386) and APISIX's sub-path replace. Both work on copies. */
final class JsonPatch {

    private JsonPatch() {
    }

    /** Merges {@code patch} into a copy of {@code target}: objects recurse, arrays and scalars replace, null deletes. */
    static ObjectNode merge(ObjectNode target, ObjectNode patch) {
        ObjectNode out = target.deepCopy();
        mergeInto(out, patch);
        return out;
    }

    private static void mergeInto(ObjectNode target, ObjectNode patch) {
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode v = e.getValue();
            if (v.isNull()) {
                target.remove(e.getKey());
            } else if (v.isObject() && target.get(e.getKey()) instanceof ObjectNode t) {
                mergeInto(t, (ObjectNode) v);
            } else if (v.isObject()) {
                ObjectNode fresh = target.objectNode();
                mergeInto(fresh, (ObjectNode) v);
                target.set(e.getKey(), fresh);
            } else {
                target.set(e.getKey(), v.deepCopy());
            }
        }
    }

    /**
     * Replaces the field at {@code path} (segments of {@code /methods}, {@code /plugins/limit-count}) in a copy of
     * {@code target} with {@code value}; a null value removes it. Missing intermediate objects are created; walking
     * through a non-object is refused with 400 {@code invalid sub-path: /a/b}.
     */
    static ObjectNode subPath(ObjectNode target, List<String> path, JsonNode value) {
        ObjectNode out = target.deepCopy();
        ObjectNode cur = out;
        for (int i = 0; i < path.size() - 1; i++) {
            String seg = path.get(i);
            JsonNode next = cur.get(seg);
            if (next == null || next.isNull()) {
                next = cur.putObject(seg);
            }
            if (!(next instanceof ObjectNode o)) {
                throw new AdminException(400, "invalid sub-path: /" + String.join("/", path.subList(0, i + 1)));
            }
            cur = o;
        }
        String last = path.get(path.size() - 1);
        if (value == null || value.isNull()) {
            cur.remove(last);
        } else {
            cur.set(last, value.deepCopy());
        }
        return out;
    }
}
