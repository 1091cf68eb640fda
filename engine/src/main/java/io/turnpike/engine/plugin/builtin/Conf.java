package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Reading a validated plugin configuration (types were checked by config-sync; defaults are APISIX's). */
final class Conf {
    private Conf() {
    }

    static String str(ObjectNode c, String name, String dflt) {
        JsonNode n = c.get(name);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    static boolean bool(ObjectNode c, String name, boolean dflt) {
        JsonNode n = c.get(name);
        return n == null || n.isNull() ? dflt : n.asBoolean();
    }

    static int integer(ObjectNode c, String name, int dflt) {
        JsonNode n = c.get(name);
        return n == null || n.isNull() ? dflt : n.asInt();
    }

    static List<String> strings(ObjectNode c, String name) {
        List<String> out = new ArrayList<>();
        JsonNode n = c.get(name);
        if (n != null) {
            for (JsonNode e : n) {
                out.add(e.asText());
            }
        }
        return out;
    }

    /** Fails closed on a field the engine does not act on (config-sync refuses it first; this is the second line). */
    static void only(String plugin, ObjectNode c, Set<String> fields) {
        c.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                throw new IllegalArgumentException(plugin + ": field \"" + f + "\" is not supported");
            }
        });
    }

    static void noVariables(String field, String value) {
        if (value != null && value.indexOf('$') >= 0) {
            throw new IllegalArgumentException(field + ": variables ($name) are not supported");
        }
    }
}
