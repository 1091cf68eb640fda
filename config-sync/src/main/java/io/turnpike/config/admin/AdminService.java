package io.turnpike.config.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.ConfigLimits;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.DecodeLimits;
import io.turnpike.config.codec.FieldError;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.Resource;
import io.turnpike.config.store.ConfigStore;
import io.turnpike.config.store.StoreException;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The Admin API's semantics, free of any transport: APISIX v3 paths under {@code /apisix/admin/}, the v3 response
 * envelope, validation with APISIX's messages, referential checks, and compare-and-set writes against a
 * {@link ConfigStore} in APISIX's etcd layout ({@code <prefix>/<resource>/<id>}, JSON with {@code id},
 * {@code create_time}, {@code update_time}). Authentication and the client allow-list are the transport's
 * ({@link AdminApiHandler}).
 *
 * <p>Calls block on the store: never call {@link #handle} on an event loop. Thread-safe.
 */
public final class AdminService {

    /** The answer to every write in read-only (standalone file) mode. */
    public static final String READ_ONLY_MESSAGE = "the Admin API is read-only in standalone (yaml) mode;"
            + " edit conf/apisix.yaml instead (it is re-read when it changes)";

    static final String ADMIN_PREFIX = "/apisix/admin/";
    /** Compare-and-set attempts of one PUT / PATCH / DELETE / POST before giving up with 409. */
    static final int MAX_CAS_ATTEMPTS = 64;

    private static final Pattern USERNAME = Pattern.compile("^[a-zA-Z0-9_-]+$");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** APISIX's "kind" of each resource, as used in its messages. */
    private static final Map<String, String> KINDS = Map.ofEntries(
            Map.entry("routes", "route"), Map.entry("services", "service"), Map.entry("upstreams", "upstream"),
            Map.entry("consumers", "consumer"), Map.entry("ssls", "ssl"), Map.entry("plugin_configs", "plugin config"),
            Map.entry("global_rules", "global rule"), Map.entry("consumer_groups", "consumer group"),
            Map.entry("plugin_metadata", "plugin metadata"), Map.entry("stream_routes", "stream route"),
            Map.entry("secrets", "secret"), Map.entry("protos", "proto"), Map.entry("credentials", "credential"));
    /** Methods APISIX answers with 405 {@code not supported `X` method for <kind>}. */
    private static final Map<String, Set<String>> UNSUPPORTED = Map.of(
            "consumers", Set.of("POST", "PATCH"),
            "credentials", Set.of("POST", "PATCH"),
            "plugin_metadata", Set.of("POST"),
            "global_rules", Set.of("POST"),
            "secrets", Set.of("POST"),
            "stream_routes", Set.of("PATCH"));

    private final ConfigStore store;
    private final String prefix;
    private final boolean readOnly;
    private final ConfigCompiler compiler = new ConfigCompiler();
    private final ObjectMapper json;
    private final IdGenerator ids;
    private final LongSupplier clockSeconds;
    private final int maxValueBytes;

    public AdminService(ConfigStore store, String prefix, boolean readOnly) {
        this(store, prefix, readOnly, ConfigLimits.maxValueBytes());
    }

    /** @param maxValueBytes largest value written to the store: 413 beyond (the gateway would not decode it) */
    public AdminService(ConfigStore store, String prefix, boolean readOnly, int maxValueBytes) {
        this(store, prefix, readOnly, () -> System.currentTimeMillis() / 1000, new IdGenerator(), maxValueBytes);
    }

    AdminService(ConfigStore store, String prefix, boolean readOnly, LongSupplier clockSeconds, IdGenerator ids) {
        this(store, prefix, readOnly, clockSeconds, ids, ConfigLimits.maxValueBytes());
    }

    AdminService(ConfigStore store, String prefix, boolean readOnly, LongSupplier clockSeconds, IdGenerator ids,
                 int maxValueBytes) {
        this.maxValueBytes = maxValueBytes;
        this.store = store;
        this.prefix = normalizePrefix(prefix);
        this.readOnly = readOnly;
        this.clockSeconds = clockSeconds;
        this.ids = ids;
        // duplicate keys refused, nesting/number/string limits: DecodeLimits (bodies are also bounded by the transport)
        this.json = DecodeLimits.jsonReader();
    }

    /** "/apisix/" -> "/apisix"; "" stays "" (keys are then "/routes/1"). */
    static String normalizePrefix(String p) {
        if (p == null || p.isEmpty() || p.equals("/")) {
            return "";
        }
        String s = p.startsWith("/") ? p : "/" + p;
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /**
     * Serves one request.
     *
     * @param method the HTTP method, upper case
     * @param uri    the request target (path and query)
     * @param body   the request body, empty when none
     */
    public AdminResponse handle(String method, String uri, byte[] body) {
        try {
            return dispatch(method, uri, body);
        } catch (AdminException e) {
            return e.response();
        } catch (StoreException e) {
            return AdminResponse.error(503, e.getMessage());
        } catch (RuntimeException e) {
            return AdminResponse.error(500, "internal error: " + e);
        }
    }

    // ---------------------------------------------------------------- routing

    /** A parsed target: the key directory under the prefix ({@code /routes}, {@code /consumers/u/credentials}). */
    private record Target(String resource, String kind, String dir, String id, List<String> sub) {
        boolean noIdInValue() {
            return resource.equals("consumers") || resource.equals("plugin_metadata");
        }
    }

    private AdminResponse dispatch(String method, String uri, byte[] body) throws StoreException {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        Map<String, String> args = query(q < 0 ? "" : uri.substring(q + 1));
        if (!path.startsWith(ADMIN_PREFIX)) {
            throw new AdminException(404, "not found");
        }
        List<String> segs = segments(path);
        if (segs.isEmpty()) {
            throw new AdminException(404, "not found");
        }
        if (segs.get(0).equals("schema") && segs.size() == 3 && segs.get(1).equals("validate")) {
            if (!method.equals("POST")) {
                throw new AdminException(405, "please use POST to validate a configuration");
            }
            return validateOnly(segs.get(2), body);
        }
        if (segs.get(0).equals("plugins")) {
            return plugins(method, segs);
        }
        Target t = target(segs);
        if (!t.sub.isEmpty() && !method.equals("PATCH")) {
            // only PATCH takes a sub-path (/routes/1/methods); anything else would act on another key than named
            throw new AdminException(400, "invalid path " + path + ": a " + t.kind + " path takes no segments after"
                    + " the id with " + method);
        }
        Set<String> unsupported = UNSUPPORTED.getOrDefault(t.resource, Set.of());
        if (unsupported.contains(method)) {
            throw new AdminException(405, "not supported `" + method + "` method for " + t.kind);
        }
        if (!method.equals("GET") && readOnly) {
            throw new AdminException(405, READ_ONLY_MESSAGE);
        }
        switch (method) {
            case "GET":
                return t.id == null ? list(t, args) : getOne(t);
            case "PUT":
                return put(t, parseBody(body, "missing configurations"));
            case "POST":
                return post(t, parseBody(body, "missing configurations"));
            case "PATCH":
                return patch(t, parseBody(body, "missing new configuration"));
            case "DELETE":
                return delete(t);
            default:
                throw new AdminException(405, "method " + method + " is not allowed");
        }
    }

    /**
     * The segments after {@code /apisix/admin/}; one trailing slash names the directory itself. Refused with 400, so
     * that a path never writes a key other than the one it names: empty segments ({@code //}), {@code .} and
     * {@code ..}, and percent-encoded characters (no id, username or plugin name needs one; {@code %2F} would hide a
     * slash).
     */
    private static List<String> segments(String path) {
        if (path.indexOf('%') >= 0) {
            throw new AdminException(400, "invalid path " + path + ": percent-encoded characters are not allowed");
        }
        String rest = path.substring(ADMIN_PREFIX.length());
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        List<String> segs = new ArrayList<>();
        if (rest.isEmpty()) {
            return segs;
        }
        for (String s : rest.split("/", -1)) {
            if (s.isEmpty()) {
                throw new AdminException(400, "invalid path " + path + ": empty segment");
            }
            if (s.equals(".") || s.equals("..")) {
                throw new AdminException(400, "invalid path " + path + ": \"" + s + "\" segments are not allowed");
            }
            segs.add(s);
        }
        return segs;
    }

    private Target target(List<String> segs) {
        String res = segs.get(0);
        if (res.equals("consumers") && segs.size() >= 3 && segs.get(2).equals("credentials")) {
            String username = segs.get(1);
            if (!USERNAME.matcher(username).matches()) {
                throw new AdminException(400, "invalid consumer username " + quote(username));
            }
            String id = segs.size() > 3 ? checkedPathId(segs.get(3), "credential") : null;
            return new Target("credentials", "credential", "/consumers/" + username + "/credentials", id,
                    List.copyOf(segs.subList(Math.min(4, segs.size()), segs.size())));
        }
        if (Resource.of(res) == null) {
            throw new AdminException(404, "Unsupported resource type: " + res);
        }
        String kind = KINDS.get(res);
        if (res.equals("secrets")) {
            // secrets are keyed <type>/<id>: /apisix/secrets/vault/1
            if (segs.size() == 2) {
                throw new AdminException(400, "missing secret id");
            }
            String id = segs.size() >= 3 ? checkedPathId(segs.get(1), kind) + "/" + checkedPathId(segs.get(2), kind)
                    : null;
            return new Target(res, kind, "/" + res, id, List.copyOf(segs.subList(Math.min(3, segs.size()),
                    segs.size())));
        }
        String id = segs.size() > 1 ? checkedPathId(segs.get(1), kind) : null;
        return new Target(res, kind, "/" + res, id, List.copyOf(segs.subList(Math.min(2, segs.size()), segs.size())));
    }

    private static String checkedPathId(String id, String kind) {
        if (id.equals(".") || id.equals("..")) {
            throw new AdminException(400, "invalid configuration: property \"id\" validation failed: "
                    + quote(id) + " is not allowed as an id");
        }
        String err = kind.equals("consumer") ? (USERNAME.matcher(id).matches() && id.length() <= 100 ? null
                : "failed to match pattern \"^[a-zA-Z0-9_-]+$\" with " + quote(id)) : ResourceCodec.checkId(id);
        if (err != null) {
            throw new AdminException(400, "invalid configuration: property \""
                    + (kind.equals("consumer") ? "username" : "id") + "\" validation failed: " + err);
        }
        return id;
    }

    private String key(Target t, String id) {
        return prefix + t.dir + "/" + id;
    }

    // ---------------------------------------------------------------- GET

    private AdminResponse getOne(Target t) throws StoreException {
        ConfigStore.Entry e = store.get(key(t, t.id));
        if (e == null) {
            return notFound();
        }
        return AdminResponse.json(200, envelope(t, e.key(), readValue(e.value()), e));
    }

    private static AdminResponse notFound() {
        ObjectNode o = NODES.objectNode();
        o.put("error_msg", "Key not found");
        o.put("message", "Key not found");
        return AdminResponse.json(404, o);
    }

    private AdminResponse list(Target t, Map<String, String> args) throws StoreException {
        String dirKey = prefix + t.dir + "/";
        ConfigStore.Listing listing = store.list(dirKey);
        Pattern name = regexArg(args, "name");
        Pattern uri = regexArg(args, "uri");
        String label = args.get("label");
        List<ConfigStore.Entry> kept = new ArrayList<>();
        List<JsonNode> values = new ArrayList<>();
        for (ConfigStore.Entry e : listing.entries()) {
            String rest = e.key().substring(dirKey.length());
            int slashes = (int) rest.chars().filter(c -> c == '/').count();
            if (rest.isEmpty() || slashes != (t.resource.equals("secrets") ? 1 : 0)) {
                continue; // the directory placeholder, or a consumer's credentials under /consumers/<u>/credentials/
            }
            JsonNode v = readValue(e.value());
            if (!matches(v, name, label, uri)) {
                continue;
            }
            kept.add(e);
            values.add(v);
        }
        int total = kept.size();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            order.add(i);
        }
        Long page = number(args.get("page"));
        Long pageSize = number(args.get("page_size"));
        int from = 0;
        int to = total;
        if (page != null && pageSize != null) {
            if (pageSize < 10 || pageSize > 500) {
                throw new AdminException(400, "page_size must be between 10 and 500");
            }
            long p = Math.max(1, page);
            order.sort((a, b) -> Long.compare(kept.get(a).createRevision(), kept.get(b).createRevision()));
            long start = (p - 1) * pageSize;
            from = (int) Math.min(total, start);
            to = (int) Math.min(total, start + pageSize);
        }
        ArrayNode items = NODES.arrayNode();
        for (int i = from; i < to; i++) {
            int idx = order.get(i);
            ConfigStore.Entry e = kept.get(idx);
            items.add(envelope(t, e.key(), values.get(idx), e));
        }
        ObjectNode out = NODES.objectNode();
        out.set("list", items);
        out.put("total", total);
        return AdminResponse.json(200, out);
    }

    private static boolean matches(JsonNode v, Pattern name, String label, Pattern uri) {
        if (name != null && !(v.path("name").isTextual() && name.matcher(v.path("name").textValue()).find())) {
            return false;
        }
        if (label != null && !(v.path("labels").isObject() && v.path("labels").has(label))) {
            return false;
        }
        if (uri != null) {
            boolean hit = v.path("uri").isTextual() && uri.matcher(v.path("uri").textValue()).find();
            for (JsonNode u : v.path("uris")) {
                hit |= u.isTextual() && uri.matcher(u.textValue()).find();
            }
            return hit;
        }
        return true;
    }

    private static Pattern regexArg(Map<String, String> args, String name) {
        String s = args.get(name);
        if (s == null) {
            return null;
        }
        try {
            return Pattern.compile(s);
        } catch (PatternSyntaxException e) {
            throw new AdminException(400, "invalid argument " + name + ": " + e.getDescription());
        }
    }

    private static Long number(String s) {
        if (s == null) {
            return null;
        }
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private ObjectNode envelope(Target t, String key, JsonNode value, ConfigStore.Entry e) {
        ObjectNode o = NODES.objectNode();
        o.put("key", key);
        if (t.resource.equals("ssls") && value instanceof ObjectNode v) {
            // like APISIX: the private key is never returned
            value = v.deepCopy();
            ((ObjectNode) value).remove("key");
            ((ObjectNode) value).remove("keys");
        }
        o.set("value", value);
        o.put("createdIndex", e.createRevision());
        o.put("modifiedIndex", e.modRevision());
        return o;
    }

    // ---------------------------------------------------------------- writes

    private AdminResponse put(Target t, JsonNode body) throws StoreException {
        ObjectNode conf = requireObject(body);
        String id = t.id;
        if (t.resource.equals("consumers")) {
            JsonNode u = conf.get("username");
            if (id != null && u != null && !(u.isTextual() && u.textValue().equals(id))) {
                throw new AdminException(400, "wrong username");
            }
            if (id == null && u != null && u.isTextual()) {
                id = checkedPathId(u.textValue(), t.kind);
            }
            if (id != null && u == null) {
                conf.put("username", id);
            }
        } else if (t.resource.equals("plugin_metadata")) {
            if (id == null) {
                throw new AdminException(400, "missing plugin metadata id");
            }
        } else {
            id = needId(t, conf, id);
        }
        validate(t, id, conf);
        checkRefs(t, conf);
        String key = key(t, id);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            ConfigStore.Entry cur = store.get(key);
            ObjectNode value = conf.deepCopy();
            if (!t.resource.equals("plugin_metadata")) {
                long now = clockSeconds.getAsLong();
                if (!value.has("create_time")) {
                    JsonNode prev = cur == null ? null : readValue(cur.value()).get("create_time");
                    value.put("create_time", prev != null && prev.isIntegralNumber() ? prev.asLong() : now);
                }
                if (!value.has("update_time")) {
                    value.put("update_time", now);
                }
            }
            ConfigStore.Entry stored = store.putIf(key, bytes(value), cur == null ? 0 : cur.modRevision());
            if (stored != null) {
                return AdminResponse.json(cur == null ? 201 : 200, envelope(t, key, value, stored));
            }
            backoff(attempt);
        }
        throw conflict(t, id);
    }

    private String needId(Target t, ObjectNode conf, String pathId) {
        String bodyId = idText(conf.get("id"));
        String id = pathId != null ? pathId : bodyId;
        if (id == null) {
            throw new AdminException(400, "missing " + t.kind + " id");
        }
        if (pathId != null && bodyId != null && !bodyId.equals(pathId)) {
            throw new AdminException(400, "wrong " + t.kind + " id");
        }
        if (pathId == null) {
            checkedPathId(id, t.kind);
        }
        conf.put("id", id);
        return id;
    }

    private static String idText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isIntegralNumber()) {
            // n.asText(), not asLong(): 2^64 + 1 must not wrap around to the id "1"
            return n.asText();
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        throw new AdminException(400, "invalid configuration: property \"id\" validation failed: "
                + "object matches none of the required");
    }

    private AdminResponse post(Target t, JsonNode body) throws StoreException {
        ObjectNode conf = requireObject(body);
        if (t.id != null || (conf.has("id") && !conf.get("id").isNull())) {
            throw new AdminException(400, "wrong " + t.kind + " id, do not need it");
        }
        // validate once with a placeholder id of the generated form; the id itself cannot make a value invalid
        ObjectNode probe = conf.deepCopy();
        probe.put("id", "00000000000000000001");
        validate(t, "00000000000000000001", probe);
        checkRefs(t, conf);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            String id = ids.next();
            ObjectNode value = conf.deepCopy();
            value.put("id", id);
            long now = clockSeconds.getAsLong();
            if (!value.has("create_time")) {
                value.put("create_time", now);
            }
            if (!value.has("update_time")) {
                value.put("update_time", now);
            }
            String key = key(t, id);
            ConfigStore.Entry stored = store.putIf(key, bytes(value), 0);
            if (stored != null) {
                return AdminResponse.json(201, envelope(t, key, value, stored));
            }
        }
        throw new AdminException(409, "could not allocate a new " + t.kind + " id; retry");
    }

    private AdminResponse patch(Target t, JsonNode body) throws StoreException {
        if (t.id == null) {
            throw new AdminException(400, "missing " + t.kind + " id");
        }
        boolean sub = !t.sub.isEmpty();
        if (!sub && !body.isObject()) {
            throw new AdminException(400, "invalid configuration");
        }
        String key = key(t, t.id);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            ConfigStore.Entry cur = store.get(key);
            if (cur == null) {
                return notFound();
            }
            JsonNode old = readValue(cur.value());
            if (!old.isObject()) {
                throw new AdminException(400, "the stored " + t.kind + " is not a JSON object; replace it with PUT");
            }
            ObjectNode value = sub ? JsonPatch.subPath((ObjectNode) old, t.sub, body)
                    : JsonPatch.merge((ObjectNode) old, (ObjectNode) body);
            if (!t.resource.equals("plugin_metadata")) {
                if (sub || !body.has("update_time") || body.get("update_time").isNull()) {
                    value.put("update_time", clockSeconds.getAsLong());
                }
                if (!value.has("create_time") && old.has("create_time")) {
                    value.set("create_time", old.get("create_time"));
                }
            }
            if (!t.noIdInValue()) {
                String bodyId = idText(value.get("id"));
                if (bodyId != null && !bodyId.equals(t.id)) {
                    throw new AdminException(400, "wrong " + t.kind + " id");
                }
                value.put("id", t.id);
            }
            validate(t, t.id, value);
            checkRefs(t, value);
            ConfigStore.Entry stored = store.putIf(key, bytes(value), cur.modRevision());
            if (stored != null) {
                return AdminResponse.json(200, envelope(t, key, value, stored));
            }
            backoff(attempt);
        }
        throw conflict(t, t.id);
    }

    private AdminResponse delete(Target t) throws StoreException {
        if (t.id == null) {
            throw new AdminException(400, "missing " + t.kind + " id");
        }
        String key = key(t, t.id);
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            ConfigStore.Entry cur = store.get(key);
            if (cur == null) {
                return notFound();
            }
            checkNotReferenced(t);
            if (store.deleteIf(key, cur.modRevision())) {
                ObjectNode o = NODES.objectNode();
                o.put("key", key);
                o.put("deleted", "1");
                return AdminResponse.json(200, o);
            }
            backoff(attempt);
        }
        throw conflict(t, t.id);
    }

    private static AdminException conflict(Target t, String id) {
        return new AdminException(409, t.kind + " [" + id + "] was modified concurrently " + MAX_CAS_ATTEMPTS
                + " times in a row; retry");
    }

    private static void backoff(int attempt) {
        if (attempt < 2) {
            Thread.onSpinWait();
            return;
        }
        try {
            Thread.sleep(Math.min(20, 1L << Math.min(attempt - 2, 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(503, "interrupted");
        }
    }

    // ---------------------------------------------------------------- validation

    /**
     * APISIX's plugin introspection, for dashboards: {@code GET /apisix/admin/plugins/list} (the names of the plugins
     * this build implements) and {@code GET /apisix/admin/plugins/{name}} (its JSON schema).
     */
    private AdminResponse plugins(String method, List<String> segs) {
        if (!method.equals("GET")) {
            throw new AdminException(405, "not supported `" + method + "` method for plugins");
        }
        io.turnpike.config.plugin.PluginRegistry registry = io.turnpike.config.plugin.PluginRegistry.builtin();
        if (segs.size() == 2 && segs.get(1).equals("list")) {
            com.fasterxml.jackson.databind.node.ArrayNode names = json.createArrayNode();
            new java.util.TreeSet<>(registry.names()).forEach(names::add);
            return AdminResponse.json(200, names);
        }
        if (segs.size() == 2 && registry.known(segs.get(1))) {
            String schema = io.turnpike.config.plugin.BuiltinPluginSchemas.JSON_SCHEMAS.get(segs.get(1));
            if (schema != null) {
                try {
                    return AdminResponse.json(200, json.readTree(schema));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new AdminException(404, "not found plugin: " + String.join("/", segs.subList(1, segs.size())));
    }

    private AdminResponse validateOnly(String resource, byte[] body) {
        JsonNode value = parseBody(body, "missing configurations");
        List<FieldError> errors;
        if (resource.equals("credentials")) {
            errors = checkCredential(value);
            if (errors.isEmpty()) {
                errors = compiler.validateCredential(value);
            }
        } else if (Resource.of(resource) == null) {
            throw new AdminException(404, "Unsupported resource type: " + resource);
        } else if (resource.equals("consumers")) {
            errors = checkConsumer(value);
            if (errors.isEmpty()) {
                errors = compiler.validate(resource, null, value);
            }
        } else {
            errors = compiler.validate(resource, null, value);
        }
        if (errors.isEmpty()) {
            return AdminResponse.empty(200);
        }
        throw new AdminException(400, errors.get(0).message());
    }

    private void validate(Target t, String id, ObjectNode conf) {
        List<FieldError> errors;
        switch (t.resource) {
            case "consumers":
                errors = checkConsumer(conf);
                if (errors.isEmpty()) {
                    errors = compiler.validate(t.resource, id, conf);
                }
                break;
            case "credentials":
                errors = checkCredential(conf);
                if (errors.isEmpty()) {
                    errors = compiler.validateCredential(conf);
                }
                break;
            default:
                errors = compiler.validate(t.resource, id, conf);
        }
        if (!errors.isEmpty()) {
            // APISIX: schema errors carry the prefix, the plugin check's own message (unknown plugin [x]) does not
            FieldError first = errors.get(0);
            throw new AdminException(400, first.afterSchema() ? first.message()
                    : "invalid configuration: " + first.message());
        }
    }

    private static List<FieldError> checkConsumer(JsonNode v) {
        if (!v.isObject()) {
            return List.of(new FieldError("", "wrong type: expected object, got " + type(v)));
        }
        JsonNode u = v.get("username");
        if (u == null) {
            return List.of(new FieldError("username", "property \"username\" is required"));
        }
        if (!u.isTextual()) {
            return List.of(new FieldError("username", "property \"username\" validation failed: wrong type: expected"
                    + " string, got " + type(u)));
        }
        if (u.textValue().isEmpty() || u.textValue().length() > 100 || !USERNAME.matcher(u.textValue()).matches()) {
            return List.of(new FieldError("username", "property \"username\" validation failed: failed to match"
                    + " pattern \"^[a-zA-Z0-9_-]+$\" with " + quote(u.textValue())));
        }
        return checkCommon(v, Set.of("username", "group_id", "plugins", "desc", "labels", "create_time",
                "update_time", "name"));
    }

    private static List<FieldError> checkCredential(JsonNode v) {
        if (!v.isObject()) {
            return List.of(new FieldError("", "wrong type: expected object, got " + type(v)));
        }
        return checkCommon(v, Set.of("id", "plugins", "desc", "labels", "name", "create_time", "update_time"));
    }

    private static List<FieldError> checkCommon(JsonNode v, Set<String> allowed) {
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!allowed.contains(e.getKey())) {
                return List.of(new FieldError(e.getKey(), "additional properties forbidden, found " + e.getKey()));
            }
        }
        for (String f : List.of("plugins", "labels")) {
            if (v.has(f) && !v.get(f).isObject()) {
                return List.of(new FieldError(f, "property \"" + f + "\" validation failed: wrong type: expected"
                        + " object, got " + type(v.get(f))));
            }
        }
        for (String f : List.of("desc", "name", "group_id")) {
            if (v.has(f) && !v.get(f).isTextual() && !(f.equals("group_id") && v.get(f).isIntegralNumber())) {
                return List.of(new FieldError(f, "property \"" + f + "\" validation failed: wrong type: expected"
                        + " string, got " + type(v.get(f))));
            }
        }
        return List.of();
    }

    private static String type(JsonNode n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isObject()) {
            return "object";
        }
        if (n.isArray()) {
            return "array";
        }
        if (n.isTextual()) {
            return "string";
        }
        if (n.isBoolean()) {
            return "boolean";
        }
        return "number";
    }

    /** The references APISIX checks on write: the named entries must exist now. */
    private void checkRefs(Target t, ObjectNode conf) throws StoreException {
        switch (t.resource) {
            case "routes":
            case "stream_routes":
                ref(conf, "upstream_id", "upstreams", "upstream");
                ref(conf, "service_id", "services", "service");
                ref(conf, "plugin_config_id", "plugin_configs", "plugin config");
                break;
            case "services":
                ref(conf, "upstream_id", "upstreams", "upstream");
                break;
            case "consumers":
                ref(conf, "group_id", "consumer_groups", "consumer group");
                break;
            case "credentials":
                // a credential belongs to an existing consumer
                String dir = t.dir.substring(0, t.dir.length() - "/credentials".length());
                if (store.get(prefix + dir) == null) {
                    throw new AdminException(404, "consumer " + quote(dir.substring("/consumers/".length()))
                            + " not found");
                }
                break;
            default:
                break;
        }
    }

    private void ref(ObjectNode conf, String field, String resource, String kind) throws StoreException {
        JsonNode n = conf.get(field);
        if (n == null || n.isNull()) {
            return;
        }
        String id = n.isTextual() ? n.textValue() : n.asText();
        if (store.get(prefix + "/" + resource + "/" + id) == null) {
            throw new AdminException(400, "failed to fetch " + kind + " info by " + kind + " id [" + id
                    + "], response code: 404");
        }
    }

    /** APISIX's delete checkers: an entry still referenced may not go. */
    private void checkNotReferenced(Target t) throws StoreException {
        switch (t.resource) {
            case "upstreams":
                refusedIfUsed(t.id, "routes", "upstream_id", "can not delete this upstream, route [%s] is still"
                        + " using it now");
                refusedIfUsed(t.id, "services", "upstream_id", "can not delete this upstream, service [%s] is"
                        + " still using it now");
                refusedIfUsed(t.id, "stream_routes", "upstream_id", "can not delete this upstream, stream_route"
                        + " [%s] is still using it now");
                break;
            case "services":
                refusedIfUsed(t.id, "routes", "service_id", "can not delete this service directly, route [%s] is"
                        + " still using it now");
                refusedIfUsed(t.id, "stream_routes", "service_id", "can not delete this service directly,"
                        + " stream_route [%s] is still using it now");
                break;
            case "plugin_configs":
                refusedIfUsed(t.id, "routes", "plugin_config_id", "can not delete this plugin config, route [%s] is"
                        + " still using it now");
                break;
            case "consumer_groups":
                refusedIfUsed(t.id, "consumers", "group_id", "can not delete this consumer group, consumer [%s] is"
                        + " still using it now");
                break;
            default:
                break;
        }
    }

    private void refusedIfUsed(String id, String resource, String field, String template) throws StoreException {
        String dir = prefix + "/" + resource + "/";
        for (ConfigStore.Entry e : store.list(dir).entries()) {
            String rest = e.key().substring(dir.length());
            if (rest.isEmpty() || rest.indexOf('/') >= 0) {
                continue;
            }
            JsonNode v = readValue(e.value());
            JsonNode ref = v.get(field);
            if (ref != null && !ref.isNull() && (ref.isTextual() ? ref.textValue() : ref.asText()).equals(id)) {
                throw new AdminException(400, String.format(template, rest));
            }
        }
    }

    // ---------------------------------------------------------------- JSON

    private JsonNode parseBody(byte[] body, String missing) {
        if (body == null || body.length == 0) {
            throw new AdminException(400, missing);
        }
        try {
            JsonNode n = json.readTree(body);
            if (n == null || n.isMissingNode()) {
                throw new AdminException(400, missing);
            }
            return n;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw new AdminException(400, "invalid request body: " + e.getOriginalMessage() + where);
        } catch (IOException e) {
            throw new AdminException(400, "invalid request body: " + e.getMessage());
        }
    }

    private static ObjectNode requireObject(JsonNode body) {
        if (!body.isObject()) {
            throw new AdminException(400, "invalid configuration: wrong type: expected object, got " + type(body));
        }
        return (ObjectNode) body;
    }

    /** A stored value; what is not JSON (foreign data, APISIX's "init_dir" placeholder) is returned as a string. */
    private JsonNode readValue(byte[] value) {
        try {
            JsonNode n = json.readTree(value);
            return n == null || n.isMissingNode() ? NODES.textNode("") : n;
        } catch (IOException e) {
            return NODES.textNode(new String(value, StandardCharsets.UTF_8));
        }
    }

    /** The value to store; 413 when it is larger than what the gateway decodes. */
    private byte[] bytes(JsonNode n) {
        byte[] b;
        try {
            b = json.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (b.length > maxValueBytes) {
            throw new AdminException(413, "invalid configuration: " + ConfigLimits.valueTooLarge(b.length,
                    maxValueBytes));
        }
        return b;
    }

    static Map<String, String> query(String q) {
        Map<String, String> out = new HashMap<>();
        if (q.isEmpty()) {
            return out;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            String v = eq < 0 ? "" : part.substring(eq + 1);
            try {
                out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v,
                        StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new AdminException(400, "invalid query string: " + e.getMessage());
            }
        }
        return out;
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }
}
