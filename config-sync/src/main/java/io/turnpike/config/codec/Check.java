package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A position inside the entry being validated, and the list errors are added to. Produces the messages of
 * APISIX's JSON-schema validator (api7/jsonschema): {@code property "x" validation failed: ...},
 * {@code failed to validate item N: ...}, {@code wrong type: expected string, got number}, ...
 * Each typed getter returns null when the field is absent or wrong (after recording the error).
 */
final class Check {
    final List<FieldError> errors;
    // A child's path and message prefix are built from its parent's only when asked (an error, or a check re-based
    // on this one): most checks pass, and building them eagerly cost two strings per field visited (a 50,000-route
    // start visits ~750,000 fields).
    private final Check parent;
    private final String name;
    private final int index;
    // member(): the message part is before + name + after; child(): both null
    private final String before;
    private final String after;
    private String path;
    private String prefix;

    Check(List<FieldError> errors, String path, String prefix) {
        this(errors, null, null, -1, null, null);
        this.path = path;
        this.prefix = prefix;
    }

    private Check(List<FieldError> errors, Check parent, String name, int index, String before, String after) {
        this.errors = errors;
        this.parent = parent;
        this.name = name;
        this.index = index;
        this.before = before;
        this.after = after;
    }

    static Check root() {
        return new Check(new ArrayList<>(), "", "");
    }

    Check child(String name) {
        return new Check(errors, this, name, -1, null, null);
    }

    Check item(int index) {
        return new Check(errors, this, null, index, null, null);
    }

    /**
     * The member {@code key} of this object whose messages read {@code before + key + after} instead of APISIX's
     * {@code property "key" validation failed: } (pattern properties such as an upstream's node addresses).
     */
    Check member(String key, String before, String after) {
        return new Check(errors, this, key, -1, before, after);
    }

    /** The field's path ({@link FieldPath}). */
    String path() {
        if (path == null) {
            path = name != null ? FieldPath.member(parent.path(), name) : FieldPath.item(parent.path(), index);
        }
        return path;
    }

    /** The message prefix of APISIX's validator for this field ({@code property "x" validation failed: ...}). */
    String prefix() {
        if (prefix == null) {
            prefix = parent.prefix() + (before != null ? before + name + after
                    : name != null ? "property \"" + name + "\" validation failed: "
                    : "failed to validate item " + (index + 1) + ": ");
        }
        return prefix;
    }

    void fail(String message) {
        errors.add(new FieldError(path(), prefix() + message));
    }

    /** An error about a field that is absent (located at this, its parent). */
    void required(String name) {
        fail("property \"" + name + "\" is required");
    }

    static String jsonType(JsonNode n) {
        if (n.isTextual()) {
            return "string";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isBoolean()) {
            return "boolean";
        }
        if (n.isObject()) {
            return "object";
        }
        if (n.isArray()) {
            return "array";
        }
        if (n.isNull()) {
            return "null";
        }
        return n.getNodeType().name().toLowerCase();
    }

    static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c < 0x20) {
                sb.append(String.format("\\%03d", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    boolean wrongType(JsonNode n, String expected) {
        fail("wrong type: expected " + expected + ", got " + jsonType(n));
        return false;
    }

    // ---- checks on this position's value ----

    String stringValue(JsonNode n, int minLength, int maxLength) {
        if (!n.isTextual()) {
            wrongType(n, "string");
            return null;
        }
        String s = n.textValue();
        int len = s.codePointCount(0, s.length());
        if (len < minLength) {
            fail("string too short, expected at least " + minLength + ", got " + len);
            return null;
        }
        if (maxLength > 0 && len > maxLength) {
            fail("string too long, expected at most " + maxLength + ", got " + len);
            return null;
        }
        return s;
    }

    boolean matches(String s, Pattern p, String patternText) {
        if (!p.matcher(s).find()) {
            fail("failed to match pattern " + quote(patternText) + " with " + quote(s));
            return false;
        }
        return true;
    }

    Long integerValue(JsonNode n, Long min, Long max) {
        if (!n.isNumber() || !(n.isIntegralNumber() || n.asDouble() == Math.rint(n.asDouble()))) {
            wrongType(n, "integer");
            return null;
        }
        if (!Double.isFinite(n.asDouble()) || Math.abs(n.asDouble()) > 9.007199254740992E15) {
            // JSON/YAML numbers beyond 2^53 (1e999999, 2^70): never a valid port, weight, timeout or priority
            fail("integer " + n.asText() + " out of range");
            return null;
        }
        long v = n.asLong();
        if (min != null && v < min) {
            fail("expected " + v + " to be at least " + min);
            return null;
        }
        if (max != null && v > max) {
            fail("expected " + v + " to be at most " + max);
            return null;
        }
        return v;
    }

    Double numberValue(JsonNode n, Double min, Double exclusiveMin) {
        if (!n.isNumber()) {
            wrongType(n, "number");
            return null;
        }
        double v = n.asDouble();
        if (!Double.isFinite(v)) {
            fail("expected a finite number, got " + n.asText());
            return null;
        }
        if (min != null && v < min) {
            fail("expected " + num(v) + " to be at least " + num(min));
            return null;
        }
        if (exclusiveMin != null && v <= exclusiveMin) {
            fail("expected " + num(v) + " to be greater than " + num(exclusiveMin));
            return null;
        }
        return v;
    }

    boolean uniqueItems(ArrayNode a) {
        for (int i = 0; i < a.size(); i++) {
            for (int j = i + 1; j < a.size(); j++) {
                if (a.get(i).equals(a.get(j))) {
                    fail("expected unique items but items " + (i + 1) + " and " + (j + 1) + " are equal");
                    return false;
                }
            }
        }
        return true;
    }

    ArrayNode arrayValue(JsonNode n, int minItems, boolean unique) {
        return arrayValue(n, minItems, 0, unique);
    }

    /** An array of {@code minItems} to {@code maxItems} (0: no bound) items; the bound is checked before uniqueness. */
    ArrayNode arrayValue(JsonNode n, int minItems, int maxItems, boolean unique) {
        if (!n.isArray()) {
            wrongType(n, "array");
            return null;
        }
        ArrayNode a = (ArrayNode) n;
        if (a.size() < minItems) {
            fail("expect array to have at least " + minItems + " items");
            return null;
        }
        if (maxItems > 0 && a.size() > maxItems) {
            fail("expect array to have at most " + maxItems + " items");
            return null;
        }
        if (unique && !uniqueItems(a)) {
            return null;
        }
        return a;
    }

    // ---- checks on a member of an object at this position ----

    String string(ObjectNode o, String name, int minLength, int maxLength) {
        JsonNode n = o.get(name);
        return n == null ? null : child(name).stringValue(n, minLength, maxLength);
    }

    Long integer(ObjectNode o, String name, Long min, Long max) {
        JsonNode n = o.get(name);
        return n == null ? null : child(name).integerValue(n, min, max);
    }

    Double number(ObjectNode o, String name, Double min, Double exclusiveMin) {
        JsonNode n = o.get(name);
        return n == null ? null : child(name).numberValue(n, min, exclusiveMin);
    }

    Boolean bool(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isBoolean()) {
            child(name).wrongType(n, "boolean");
            return null;
        }
        return n.booleanValue();
    }

    ObjectNode object(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            child(name).wrongType(n, "object");
            return null;
        }
        return (ObjectNode) n;
    }

    ArrayNode array(ObjectNode o, String name, int minItems, boolean unique) {
        JsonNode n = o.get(name);
        return n == null ? null : child(name).arrayValue(n, minItems, unique);
    }

    ArrayNode array(ObjectNode o, String name, int minItems, int maxItems, boolean unique) {
        JsonNode n = o.get(name);
        return n == null ? null : child(name).arrayValue(n, minItems, maxItems, unique);
    }

    /** A string enum member; also reports a non-string as "matches none of the enum values", like APISIX. */
    String enumString(ObjectNode o, String name, Set<String> values) {
        JsonNode n = o.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isTextual() || !values.contains(n.textValue())) {
            child(name).fail("matches none of the enum values");
            return null;
        }
        return n.textValue();
    }

    /** {@code additionalProperties = false}: reports the first field not in {@code allowed}. */
    boolean noAdditional(ObjectNode o, Set<String> allowed) {
        Iterator<String> it = o.fieldNames();
        while (it.hasNext()) {
            String f = it.next();
            if (!allowed.contains(f)) {
                errors.add(new FieldError(FieldPath.member(path(), f), prefix() + "additional properties forbidden, found " + f));
                return false;
            }
        }
        return true;
    }

    static Set<String> set(String... values) {
        return Set.copyOf(new HashSet<>(List.of(values)));
    }
}
