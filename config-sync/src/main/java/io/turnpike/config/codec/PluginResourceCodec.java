package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.Resource;
import io.turnpike.config.plugin.PluginRegistry;
import java.util.Map;
import java.util.Set;

/**
 * Validates the resources that are kept as raw JSON (not typed records): their field set (APISIX's
 * {@code schema_def.lua}, {@code additionalProperties = false}) and, wherever they carry one, their {@code plugins}
 * object against the {@link PluginRegistry}. {@code stream_routes} are refused (no TCP/UDP proxy), a
 * {@code plugin_metadata} entry must be named after a registered plugin. {@code secrets} and {@code protos} are inert
 * data (read only by plugins) and only need to be objects.
 *
 * <p>Stateless and thread-safe.
 */
public final class PluginResourceCodec {

    static final Set<String> PLUGIN_CONFIG_FIELDS = Check.set("id", "name", "desc", "labels", "plugins",
            "create_time", "update_time");
    static final Set<String> GLOBAL_RULE_FIELDS = Check.set("id", "plugins", "create_time", "update_time");
    static final Set<String> CONSUMER_GROUP_FIELDS = Check.set("id", "name", "desc", "labels", "plugins",
            "create_time", "update_time");
    /** {@code credentials}: the etcd source folds {@code consumers/<name>/credentials/<id>} into the consumer. */
    static final Set<String> CONSUMER_FIELDS = Check.set("username", "name", "group_id", "plugins", "desc", "labels",
            "create_time", "update_time", "credentials");
    static final Set<String> CREDENTIAL_FIELDS = Check.set("id", "name", "desc", "labels", "plugins", "create_time",
            "update_time");

    /** APISIX's answer for plugin metadata of a plugin it does not have. */
    public static final String INVALID_PLUGIN_NAME = "invalid plugin name";
    public static final String STREAM_ROUTES_REFUSED = "stream_routes are not supported yet (TCP/UDP proxying is not"
            + " implemented)";

    private final PluginRegistry registry;

    public PluginResourceCodec(PluginRegistry registry) {
        this.registry = registry;
    }

    /**
     * Checks one entry of an untyped resource.
     *
     * @return the value itself when valid, else the errors
     */
    public Decoded<JsonNode> decode(Resource resource, String id, JsonNode value) {
        Check c = Check.root();
        if (value == null || !value.isObject()) {
            c.fail("wrong type: expected object, got " + (value == null ? "null" : Check.jsonType(value)));
            return Decoded.failed(c.errors);
        }
        ObjectNode o = (ObjectNode) value;
        switch (resource) {
            case PLUGIN_CONFIGS -> pluginHolder(c, o, PLUGIN_CONFIG_FIELDS, true, PluginRegistry.SchemaType.ROUTE);
            case GLOBAL_RULES -> {
                pluginHolder(c, o, GLOBAL_RULE_FIELDS, true, PluginRegistry.SchemaType.ROUTE);
                // traffic-split replaces a route's upstream: from a global rule the engine could not act on it
                // (fail closed rather than accept and skip it).
                if (o.get("plugins") instanceof ObjectNode p && p.has("traffic-split")) {
                    c.child("plugins").fail("traffic-split is not supported in a global rule (it chooses a route's"
                            + " upstream: configure it on the route, its service or a plugin_config)");
                }
            }
            case CONSUMER_GROUPS -> {
                // A group's plugins are merged into its consumers' (checked as on a consumer); credentials belong to
                // consumers, not groups.
                pluginHolder(c, o, CONSUMER_GROUP_FIELDS, true, PluginRegistry.SchemaType.CONSUMER);
                if (o.get("plugins") instanceof ObjectNode p) {
                    for (String auth : io.turnpike.config.plugin.BuiltinPluginSchemas.AUTH_PLUGINS) {
                        if (p.has(auth)) {
                            c.child("plugins").fail(auth + " carries a consumer's credentials: not allowed in a"
                                    + " consumer group");
                        }
                    }
                }
            }
            case CONSUMERS -> consumer(c, o);
            case PLUGIN_METADATA -> {
                if (id != null && !registry.known(id)) {
                    c.errors.add(new FieldError("", INVALID_PLUGIN_NAME, true));
                } else if (id != null) {
                    // A known plugin's metadata goes through its metadata schema (refused where not acted on).
                    ObjectNode conf = o.deepCopy();
                    conf.remove("id");
                    ObjectNode wrap = o.objectNode();
                    wrap.set(id, conf);
                    PluginRegistry.Problem p = registry.check(wrap, PluginRegistry.SchemaType.METADATA);
                    if (p != null) {
                        c.errors.add(new FieldError("", p.message(), true));
                    }
                }
            }
            case STREAM_ROUTES -> c.fail(STREAM_ROUTES_REFUSED);
            default -> {
                // secrets, protos: data read by plugins only
            }
        }
        return c.errors.isEmpty() ? Decoded.ok(value) : Decoded.failed(c.errors);
    }

    /** A consumer credential ({@code /consumers/<name>/credentials/<id>}). */
    public Decoded<JsonNode> decodeCredential(JsonNode value) {
        Check c = Check.root();
        if (value == null || !value.isObject()) {
            c.fail("wrong type: expected object, got " + (value == null ? "null" : Check.jsonType(value)));
            return Decoded.failed(c.errors);
        }
        pluginHolder(c, (ObjectNode) value, CREDENTIAL_FIELDS, false, PluginRegistry.SchemaType.CONSUMER);
        return c.errors.isEmpty() ? Decoded.ok(value) : Decoded.failed(c.errors);
    }

    private void consumer(Check c, ObjectNode o) {
        pluginHolder(c, o, CONSUMER_FIELDS, false, PluginRegistry.SchemaType.CONSUMER);
        ResourceCodec.refId(c, o, "group_id");
        ObjectNode creds = c.object(o, "credentials");
        if (creds != null) {
            Check cc = c.child("credentials");
            for (Map.Entry<String, JsonNode> e : creds.properties()) {
                Check ec = new Check(c.errors, FieldPath.member(cc.path(), e.getKey()),
                        cc.prefix() + "credential " + Check.quote(e.getKey()) + ": ");
                if (!e.getValue().isObject()) {
                    ec.wrongType(e.getValue(), "object");
                } else {
                    pluginHolder(ec, (ObjectNode) e.getValue(), CREDENTIAL_FIELDS, false,
                            PluginRegistry.SchemaType.CONSUMER);
                }
            }
        }
    }

    private void pluginHolder(Check c, ObjectNode o, Set<String> fields, boolean pluginsRequired,
                              PluginRegistry.SchemaType type) {
        c.noAdditional(o, fields);
        if (fields.contains("name") || fields.contains("desc")) {
            ResourceCodec.commonMeta(c, o);
        } else {
            c.integer(o, "create_time", null, null);
            c.integer(o, "update_time", null, null);
        }
        if (pluginsRequired && !o.has("plugins")) {
            c.required("plugins");
        }
        ObjectNode plugins = c.object(o, "plugins");
        ResourceCodec.checkPlugins(c, plugins, registry, type);
    }
}
