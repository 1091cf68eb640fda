package io.turnpike.perf.read;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * Typed look-ups in a parsed JSON file that fail with the file and the dotted field path, so a
 * malformed input says exactly what is missing.
 */
public final class JsonFields {

    private final Path file;

    public JsonFields(Path file) {
        this.file = file;
    }

    public static String join(String parent, String name) {
        return parent.isEmpty() ? name : parent + "." + name;
    }

    /** A field that must be present and non-null. */
    public JsonNode require(JsonNode parent, String parentPath, String name) throws ReportInputException {
        JsonNode n = parent.get(name);
        String path = join(parentPath, name);
        if (n == null || n.isMissingNode()) {
            throw new ReportInputException(file, path, "missing field");
        }
        if (n.isNull()) {
            throw new ReportInputException(file, path, "null value for field");
        }
        return n;
    }

    public JsonNode requireObject(JsonNode parent, String parentPath, String name) throws ReportInputException {
        JsonNode n = require(parent, parentPath, name);
        if (!n.isObject()) {
            throw new ReportInputException(file, join(parentPath, name), "expected an object for field");
        }
        return n;
    }

    public String requireText(JsonNode parent, String parentPath, String name) throws ReportInputException {
        JsonNode n = require(parent, parentPath, name);
        if (!n.isValueNode()) {
            throw new ReportInputException(file, join(parentPath, name), "expected a string for field");
        }
        return n.asText();
    }

    public double requireNumber(JsonNode parent, String parentPath, String name) throws ReportInputException {
        JsonNode n = require(parent, parentPath, name);
        if (!n.isNumber()) {
            throw new ReportInputException(file, join(parentPath, name), "expected a number for field");
        }
        return n.doubleValue();
    }

    public int requireInt(JsonNode parent, String parentPath, String name) throws ReportInputException {
        JsonNode n = require(parent, parentPath, name);
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new ReportInputException(file, join(parentPath, name), "expected an integer for field");
        }
        return n.intValue();
    }

    /** An optional string: absent or null gives {@code fallback}. */
    public static String text(JsonNode parent, String name, String fallback) {
        JsonNode n = parent.get(name);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    /** An optional number: absent or null gives {@code null}. */
    public static Double number(JsonNode parent, String name) {
        JsonNode n = parent.get(name);
        return n == null || !n.isNumber() ? null : n.doubleValue();
    }
}
