package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.Set;

/**
 * Schema check of the {@code opentelemetry} plugin's route configuration, as APISIX 3.x checks it (its fields,
 * defaults and jsonschema wording), plus Turnpike's fail-closed refusals: unknown fields are refused with APISIX's
 * {@code additional properties forbidden} wording, fields Turnpike does not act on with a message naming them. The
 * process-wide part (collector, resource, batch processor) is {@code plugin_attr.opentelemetry} in config.yaml, read by
 * {@code ProcessConfigLoader}.
 *
 * <p>{@code sampler}: {@code name} always_on | always_off (default) | trace_id_ratio | parent_base; {@code options}:
 * {@code fraction} (0, in [0, 1]) and, for parent_base, {@code root} ({@code name} always_on | always_off (default) |
 * trace_id_ratio, {@code options.fraction}).
 */
public final class TracingPluginSchemas {
    static final String JSON_SCHEMA = """
            {"type":"object","properties":{"sampler":{"type":"object","properties":{\
            "name":{"type":"string","enum":["always_on","always_off","trace_id_ratio","parent_base"],\
            "default":"always_off"},"options":{"type":"object","properties":{\
            "fraction":{"type":"number","minimum":0,"maximum":1,"default":0},\
            "root":{"type":"object","properties":{"name":{"type":"string","enum":["always_on","always_off",\
            "trace_id_ratio"],"default":"always_off"},"options":{"type":"object","properties":{\
            "fraction":{"type":"number","minimum":0,"maximum":1,"default":0}}}}}}}}}},"priority":12009}""";

    private static final Set<String> SAMPLERS = Set.of("always_on", "always_off", "trace_id_ratio", "parent_base");
    private static final Set<String> ROOT_SAMPLERS = Set.of("always_on", "always_off", "trace_id_ratio");

    private TracingPluginSchemas() {
    }

    /** {@code opentelemetry} on a route, service, plugin_config, global rule or consumer; null when valid. */
    public static String openTelemetry(ObjectNode c) {
        String e = only(c, "", Set.of("sampler", "additional_attributes", "additional_header_prefix_attributes",
                "_meta"));
        if (e != null) {
            return e;
        }
        for (String f : new String[]{"additional_attributes", "additional_header_prefix_attributes"}) {
            JsonNode v = c.get(f);
            if (v != null) {
                if (!v.isArray()) {
                    return "property \"" + f + "\" validation failed: wrong type: expected array, got "
                            + BuiltinPluginSchemas.type(v);
                }
                return "property \"" + f + "\" is not supported yet (spans carry the fixed attributes: net.host.name,"
                        + " http.method, http.scheme, http.target, http.user_agent, apisix.route_id, apisix.route_name,"
                        + " apisix.service_id, http.status_code)";
            }
        }
        e = meta(c);
        if (e != null) {
            return e;
        }
        JsonNode s = c.get("sampler");
        if (s == null) {
            return null;
        }
        if (!s.isObject()) {
            return "property \"sampler\" validation failed: wrong type: expected object, got "
                    + BuiltinPluginSchemas.type(s);
        }
        return sampler((ObjectNode) s, "sampler", SAMPLERS, true);
    }

    private static String sampler(ObjectNode s, String path, Set<String> names, boolean allowRoot) {
        String e = only(s, path, Set.of("name", "options"));
        if (e != null) {
            return e;
        }
        JsonNode n = s.get("name");
        if (n != null && (!n.isTextual() || !names.contains(n.asText()))) {
            return "property \"" + path + "\" validation failed: property \"name\" validation failed: matches none"
                    + " of the enum values";
        }
        JsonNode o = s.get("options");
        if (o == null) {
            return null;
        }
        String op = path + ".options";
        if (!o.isObject()) {
            return "property \"" + op + "\" validation failed: wrong type: expected object, got "
                    + BuiltinPluginSchemas.type(o);
        }
        e = only((ObjectNode) o, op, allowRoot ? Set.of("fraction", "root") : Set.of("fraction"));
        if (e != null) {
            return e;
        }
        JsonNode f = o.get("fraction");
        if (f != null) {
            if (!f.isNumber()) {
                return "property \"" + op + ".fraction\" validation failed: wrong type: expected number, got "
                        + BuiltinPluginSchemas.type(f);
            }
            if (f.asDouble() < 0 || f.asDouble() > 1) {
                return "property \"" + op + ".fraction\" validation failed: expected " + f.asText()
                        + " to be within 0..1";
            }
        }
        JsonNode r = o.get("root");
        if (r != null) {
            if (!r.isObject()) {
                return "property \"" + op + ".root\" validation failed: wrong type: expected object, got "
                        + BuiltinPluginSchemas.type(r);
            }
            return sampler((ObjectNode) r, op + ".root", ROOT_SAMPLERS, false);
        }
        return null;
    }

    private static String only(ObjectNode c, String path, Set<String> allowed) {
        for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                return path.isEmpty() ? "additional properties forbidden, found " + f
                        : "property \"" + path + "\" validation failed: additional properties forbidden, found " + f;
            }
        }
        return null;
    }

    private static String meta(ObjectNode c) {
        JsonNode m = c.get("_meta");
        if (m == null) {
            return null;
        }
        if (!m.isObject()) {
            return "property \"_meta\" validation failed: wrong type: expected object, got "
                    + BuiltinPluginSchemas.type(m);
        }
        for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("disable")) {
                return "property \"_meta\" validation failed: \"" + f + "\" is not supported yet";
            }
        }
        JsonNode d = m.get("disable");
        return d != null && !d.isBoolean()
                ? "property \"_meta\" validation failed: property \"disable\" validation failed: wrong type: expected"
                + " boolean, got " + BuiltinPluginSchemas.type(d) : null;
    }
}
