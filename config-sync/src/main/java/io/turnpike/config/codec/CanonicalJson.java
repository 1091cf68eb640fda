package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A JSON tree written in one canonical form: object members sorted by name ({@link String#compareTo}), no whitespace.
 * The text is exactly what {@code new ObjectMapper().configure(ORDER_MAP_ENTRIES_BY_KEYS, true)} writes for the
 * tree's plain Java value ({@code treeToValue(tree, Object.class)}); CanonicalJsonTest compares the two on many trees.
 * Used where a configuration value must be named by its content: a limiter's identity (the limit plugins; the text,
 * and the Redis keys derived from it, are what they were when the ObjectMapper wrote them) and an ssl object's
 * fingerprint (the TLS compiler reuses a server context while it is unchanged).
 *
 * <p>Written by hand because the ObjectMapper route, and {@code JsonNode.toString()} too, loads and initialises
 * Jackson's whole serializer stack (about 400 classes, 0.2-0.6 s of a start on one core) on the start's critical
 * path. Stateless; any thread (the config-sync thread, at compile time).
 */
public final class CanonicalJson {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private CanonicalJson() {
    }

    /** {@code node} in canonical JSON. */
    public static String write(JsonNode node) {
        StringBuilder out = new StringBuilder(128);
        write(node, out);
        return out.toString();
    }

    private static void write(JsonNode n, StringBuilder out) {
        switch (n.getNodeType()) {
            case OBJECT -> {
                List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(n.size());
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    fields.add(it.next());
                }
                fields.sort(Map.Entry.comparingByKey());
                out.append('{');
                for (int i = 0; i < fields.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    string(fields.get(i).getKey(), out);
                    out.append(':');
                    write(fields.get(i).getValue(), out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < n.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(n.get(i), out);
                }
                out.append(']');
            }
            case STRING -> string(n.textValue(), out);
            // the node's own number type, printed as Jackson prints it: integers in decimal, a float or double by
            // Float/Double.toString, a BigDecimal by its toString (2.50 stays 2.50, 1E+3 stays 1E+3)
            case NUMBER -> {
                if (n.isIntegralNumber()) {
                    out.append(n.bigIntegerValue());
                } else if (n.isBigDecimal()) {
                    out.append(n.decimalValue());
                } else if (n.isFloat()) {
                    out.append(Float.toString(n.floatValue()));
                } else {
                    out.append(Double.toString(n.doubleValue()));
                }
            }
            case BOOLEAN -> out.append(n.booleanValue());
            case NULL -> out.append("null");
            case BINARY -> {
                try {
                    string(java.util.Base64.getEncoder().encodeToString(n.binaryValue()), out);
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
            default -> throw new IllegalArgumentException("cannot write a " + n.getNodeType() + " node as JSON");
        }
    }

    /** Jackson's default escaping: '"', '\\', and the C0 controls (short forms for \b \t \n \f \r); nothing else. */
    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
