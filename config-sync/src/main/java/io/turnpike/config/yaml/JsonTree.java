package io.turnpike.config.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.codec.CompactNodeFactory;
import io.turnpike.config.codec.DecodeLimits;
import io.turnpike.config.codec.FieldLines;
import io.turnpike.config.codec.FieldPath;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Converts a YAML node to Jackson's tree, recording the line of every field and list item by its
 * {@link FieldPath} so validation errors can point at the offending line.
 */
public final class JsonTree implements FieldLines {

    /** Small containers: a standalone file's tree is kept as long as its configuration (see CompactNodeFactory). */
    private static final CompactNodeFactory JSON = CompactNodeFactory.INSTANCE;

    private final Map<String, Integer> lines = new HashMap<>();
    private final JsonNode value;
    private String error;
    private int errorLine;

    private JsonTree(Node node) {
        this.value = convert(node, "", 1);
    }

    public static JsonTree of(Node node) {
        return new JsonTree(node);
    }

    public JsonNode value() {
        return value;
    }

    /** A structural problem found while converting (a non-scalar or duplicate key), or null. */
    public String error() {
        return error;
    }

    public int errorLine() {
        return errorLine;
    }

    @Override
    public int lineOf(String path) {
        Integer l = lines.get(path);
        return l == null ? 0 : l;
    }

    private void fail(String message, Node at) {
        if (error == null) {
            error = message;
            errorLine = YamlDocument.line(at);
        }
    }

    private JsonNode convert(Node node, String path, int depth) {
        if (depth > DecodeLimits.MAX_NESTING_DEPTH) {
            fail("nesting deeper than " + DecodeLimits.MAX_NESTING_DEPTH + " levels", node);
            return JSON.nullNode();
        }
        if (node instanceof MappingNode) {
            ObjectNode o = JSON.objectNode();
            for (NodeTuple t : ((MappingNode) node).getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode)) {
                    fail("mapping keys must be scalars", k);
                    continue;
                }
                String key = ((ScalarNode) k).getValue();
                String childPath = FieldPath.member(path, key);
                if (o.has(key)) {
                    fail("duplicate key " + quote(key) + (path.isEmpty() ? "" : " in " + path), k);
                    continue;
                }
                lines.put(childPath, YamlDocument.line(k));
                o.set(key, convert(t.getValueNode(), childPath, depth + 1));
            }
            return o;
        }
        if (node instanceof SequenceNode) {
            ArrayNode a = JSON.arrayNode();
            List<Node> items = ((SequenceNode) node).getValue();
            for (int i = 0; i < items.size(); i++) {
                String childPath = FieldPath.item(path, i);
                lines.put(childPath, YamlDocument.line(items.get(i)));
                a.add(convert(items.get(i), childPath, depth + 1));
            }
            return a;
        }
        ScalarNode s = (ScalarNode) node;
        int len = s.getValue().length();
        if ((Tag.INT.equals(s.getTag()) || Tag.FLOAT.equals(s.getTag())) && len > DecodeLimits.MAX_NUMBER_CHARS) {
            fail("number longer than " + DecodeLimits.MAX_NUMBER_CHARS + " characters", node);
            return JSON.nullNode();
        }
        if (len > DecodeLimits.MAX_STRING_CHARS) {
            fail("string longer than " + DecodeLimits.MAX_STRING_CHARS + " characters", node);
            return JSON.nullNode();
        }
        return scalar(s);
    }

    /** A scalar per the YAML 1.2 core schema tag the composer resolved. */
    public static JsonNode scalar(ScalarNode s) {
        String v = s.getValue();
        Tag tag = s.getTag();
        if (Tag.NULL.equals(tag)) {
            return JSON.nullNode();
        }
        if (Tag.BOOL.equals(tag)) {
            return JSON.booleanNode(v.equalsIgnoreCase("true"));
        }
        if (Tag.INT.equals(tag)) {
            try {
                BigInteger b = parseInt(v);
                return b.bitLength() < 64 ? JSON.numberNode(b.longValue()) : JSON.numberNode(b);
            } catch (NumberFormatException e) {
                return JSON.textNode(v);
            }
        }
        if (Tag.FLOAT.equals(tag)) {
            String f = v.toLowerCase();
            if (f.endsWith(".inf") || f.endsWith(".nan")) {
                return JSON.textNode(v);
            }
            try {
                return JSON.numberNode(Double.parseDouble(v));
            } catch (NumberFormatException e) {
                return JSON.textNode(v);
            }
        }
        return JSON.textNode(v);
    }

    private static BigInteger parseInt(String v) {
        String t = v.replace("_", "");
        boolean neg = t.startsWith("-");
        if (neg || t.startsWith("+")) {
            t = t.substring(1);
        }
        BigInteger b;
        if (t.startsWith("0x")) {
            b = new BigInteger(t.substring(2), 16);
        } else if (t.startsWith("0o")) {
            b = new BigInteger(t.substring(2), 8);
        } else {
            b = new BigInteger(t);
        }
        return neg ? b.negate() : b;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
