package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.HealthChecks;
import io.turnpike.config.model.KeepalivePool;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Timeout;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.config.plugin.PluginRegistry;
import io.turnpike.config.regex.LinearRegex;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes and validates APISIX v3 JSON for routes, services and upstreams, following APISIX's
 * {@code apisix/schema_def.lua} (field set, types, ranges, enums, {@code additionalProperties = false}) and the
 * checks APISIX runs besides the schema (chash key, pass_host rewrite). Messages use APISIX's wording.
 *
 * <p>Stricter than APISIX, on purpose (see docs/config.md): {@code uri}/{@code uris} must start with '/', a
 * wildcard host must start with {@code *.}, a route or service may not set both {@code upstream} and
 * {@code upstream_id}, and fields Turnpike cannot honour ({@code script}, {@code filter_func}, service discovery,
 * {@code scheme: grpc}, ...) are rejected rather than ignored;
 * a {@code plugins} object may only name plugins of the {@link PluginRegistry}. {@link FieldDispositions} lists
 * what becomes of every accepted field.
 *
 * <p>Stateless and thread-safe. The returned records keep a deep copy of the input as {@code raw}, or the input itself
 * for a codec {@link #sharingInput sharing its input} (a caller that never mutates a value it passed in).
 */
public final class ResourceCodec {

    public static final String ID_PATTERN_TEXT = "^[a-zA-Z0-9-_.]+$";
    private static final Pattern ID_PATTERN = Pattern.compile("^[a-zA-Z0-9._-]+$");
    public static final String HOST_PATTERN_TEXT = "^\\*?[0-9a-zA-Z-._]+$";
    static final Pattern HOST_PATTERN = Pattern.compile("^\\*?[0-9a-zA-Z._-]+$");
    private static final String HASH_VARS_PATTERN_TEXT = "^((uri|server_name|server_addr|request_uri|remote_port"
            + "|remote_addr|query_string|host|hostname)|arg_[0-9a-zA-z_-]+)$";
    private static final Pattern HASH_VARS_PATTERN = Pattern.compile(HASH_VARS_PATTERN_TEXT);
    private static final String HASH_HEADER_PATTERN_TEXT = "^[a-zA-Z0-9-_]+$";
    private static final Pattern HASH_HEADER_PATTERN = Pattern.compile("^[a-zA-Z0-9_-]+$");
    private static final Pattern IPV4 = Pattern.compile(
            "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$");
    private static final Pattern LABEL_VALUE = Pattern.compile("^\\S+$");

    /** APISIX's method list (schema_def.lua {@code method_schema}, with PURGE as in APISIX 3.x). */
    public static final Set<String> METHODS = Check.set("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
            "CONNECT", "TRACE", "PURGE");
    public static final Set<String> UPSTREAM_TYPES = Check.set("roundrobin", "chash", "ewma", "least_conn");
    public static final Set<String> HASH_ON = Check.set("vars", "header", "cookie", "consumer", "vars_combinations");
    public static final Set<String> PASS_HOST = Check.set("pass", "node", "rewrite");
    public static final Set<String> SCHEMES = Check.set("http", "https", "grpc", "grpcs");

    static final Set<String> ROUTE_FIELDS = Check.set("id", "create_time", "update_time", "uri", "uris",
            "name", "desc", "priority", "methods", "host", "hosts", "remote_addr", "remote_addrs", "timeout", "vars",
            "filter_func", "script", "script_id", "plugins", "plugin_config_id", "upstream", "labels", "service_id",
            "upstream_id", "service_protocol", "enable_websocket", "status");
    static final Set<String> SERVICE_FIELDS = Check.set("id", "plugins", "upstream", "upstream_id", "name",
            "desc", "labels", "script", "create_time", "update_time", "enable_websocket", "hosts");
    static final Set<String> UPSTREAM_FIELDS = Check.set("id", "create_time", "update_time", "nodes",
            "retries", "retry_timeout", "timeout", "tls", "type", "checks", "hash_on", "key", "scheme", "labels",
            "discovery_type", "discovery_args", "pass_host", "upstream_host", "name", "desc", "service_name",
            "keepalive_pool");
    static final Set<String> TIMEOUT_FIELDS = Check.set("connect", "send", "read");
    static final Set<String> NODE_FIELDS = Check.set("host", "port", "weight", "priority", "metadata");
    static final Set<String> KEEPALIVE_POOL_FIELDS = Check.set("size", "idle_timeout", "requests");
    /** {@code ca}: Turnpike's extension (trusted CAs for {@code verify}, docs/tls.md). */
    static final Set<String> UPSTREAM_TLS_FIELDS = Check.set("client_cert", "client_key", "client_cert_id", "verify",
            "ca");
    private static final String ROUTE_ANY_OF = "object matches none of the required: [\"plugins\",\"uri\"] or"
            + " [\"upstream\",\"uri\"] or [\"upstream_id\",\"uri\"] or [\"service_id\",\"uri\"] or"
            + " [\"plugins\",\"uris\"] or [\"upstream\",\"uris\"] or [\"upstream_id\",\"uris\"] or"
            + " [\"service_id\",\"uris\"] or [\"script\",\"uri\"] or [\"script\",\"uris\"]";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final PluginRegistry registry;

    /** With the plugins this build implements ({@link PluginRegistry#builtin()}). */
    public ResourceCodec() {
        this(PluginRegistry.builtin());
    }

    public ResourceCodec(PluginRegistry registry) {
        this(registry, false);
    }

    private ResourceCodec(PluginRegistry registry, boolean shareInput) {
        this.registry = registry;
        this.shareInput = shareInput;
    }

    /**
     * A codec whose records keep the decoded value itself as {@code raw} instead of a deep copy: for a source that
     * never mutates a value once decoded (the etcd agent: one parsed tree per stored value). Saves a copy of every
     * entry (and of every inline upstream) kept live as long as the configuration. Same results and messages.
     */
    public static ResourceCodec sharingInput(PluginRegistry registry) {
        return new ResourceCodec(registry, true);
    }

    private final boolean shareInput;

    /** The {@code raw} a record keeps: a copy, or the input itself when sharing input. */
    private ObjectNode raw(ObjectNode o) {
        return shareInput ? o : o.deepCopy();
    }

    /** The plugins a {@code plugins} object may name. */
    public PluginRegistry registry() {
        return registry;
    }

    public Decoded<Route> decodeRoute(String id, JsonNode value) {
        Check c = Check.root();
        if (!isObject(c, value)) {
            return Decoded.failed(c.errors);
        }
        ObjectNode o = (ObjectNode) value;
        c.noAdditional(o, ROUTE_FIELDS);
        String rid = entryId(c, id, o, "route");
        commonMeta(c, o);

        // allOf 1: exactly one of uri / uris
        List<String> uris = List.of();
        boolean hasUri = o.has("uri");
        boolean hasUris = o.has("uris");
        if (hasUri && hasUris) {
            c.fail("allOf 1 failed: value should match only one schema, but matches both schemas 1 and 2");
        } else if (!hasUri && !hasUris) {
            c.fail("allOf 1 failed: value should match only one schema, but matches none");
        } else if (hasUri) {
            String u = c.string(o, "uri", 1, 4096);
            if (u != null && uriOk(c.child("uri"), u)) {
                uris = List.of(u);
            }
        } else {
            uris = stringList(c, o, "uris", EntryLimits.MAX_URIS, (ic, s) -> uriOk(ic, s));
        }

        List<String> hosts = hosts(c, o, "allOf 2");
        List<String> remoteAddrs = List.of();
        if (o.has("remote_addr") && o.has("remote_addrs")) {
            c.fail("allOf 3 failed: value should match only one schema, but matches both schemas 2 and 3");
        } else if (o.has("remote_addr")) {
            String a = c.string(o, "remote_addr", 0, 0);
            if (a != null && remoteAddrOk(c.child("remote_addr"), a)) {
                remoteAddrs = List.of(a);
            }
        } else if (o.has("remote_addrs")) {
            remoteAddrs = stringList(c, o, "remote_addrs", EntryLimits.MAX_REMOTE_ADDRS, ResourceCodec::remoteAddrOk);
        }

        List<String> methods = List.of();
        // unique items of an enum: never more than the enum (bounded before the quadratic uniqueness check)
        ArrayNode m = c.array(o, "methods", 0, METHODS.size(), true);
        if (m != null) {
            List<String> out = new ArrayList<>();
            Check mc = c.child("methods");
            for (int i = 0; i < m.size(); i++) {
                JsonNode mi = m.get(i);
                if (!mi.isTextual()) {
                    mc.item(i).wrongType(mi, "string");
                } else if (!METHODS.contains(mi.textValue())) {
                    mc.item(i).fail("matches none of the enum values");
                } else {
                    out.add(mi.textValue());
                }
            }
            methods = out;
        }

        Long priority = c.integer(o, "priority", null, null);
        Long status = null;
        if (o.has("status")) {
            status = c.integer(o, "status", null, null);
            if (status != null && status != 0 && status != 1) {
                c.child("status").fail("matches none of the enum values");
                status = null;
            }
        }
        Boolean ws = c.bool(o, "enable_websocket");
        Timeout timeout = timeout(c, o);
        ArrayNode vars = vars(c, o);
        ObjectNode plugins = c.object(o, "plugins");
        String pluginConfigId = refId(c, o, "plugin_config_id");
        String serviceId = refId(c, o, "service_id");
        String upstreamId = refId(c, o, "upstream_id");
        if (o.has("service_protocol")) {
            String sp = c.enumString(o, "service_protocol", Check.set("grpc", "http"));
            if ("grpc".equals(sp)) {
                c.child("service_protocol").fail("\"grpc\" is not supported (gRPC is proxied to upstreams with"
                        + " \"scheme\": \"grpc\" or \"grpcs\": docs/http2.md)");
            }
        }
        unsupported(c, o, "filter_func", "script", "script_id");

        Upstream upstream = null;
        if (o.has("upstream")) {
            upstream = upstream(c.child("upstream"), o.get("upstream"), null);
            if (o.has("upstream_id")) {
                c.fail("only one of \"upstream\" and \"upstream_id\" may be set");
            }
        }
        if (!o.has("plugins") && !o.has("upstream") && !o.has("upstream_id") && !o.has("service_id")
                && !o.has("script") && (hasUri || hasUris)) {
            c.fail(ROUTE_ANY_OF);
        }
        checkPlugins(c, plugins, registry, PluginRegistry.SchemaType.ROUTE);
        if (!c.errors.isEmpty()) {
            return Decoded.failed(c.errors);
        }
        return Decoded.ok(new Route(rid, text(o, "name"), uris, hosts, methods, priority == null ? 0 : priority.intValue(),
                remoteAddrs, vars == null ? null : vars.deepCopy(), upstream, upstreamId, serviceId, pluginConfigId,
                plugins == null ? null : plugins.deepCopy(), timeout, ws != null && ws,
                status == null ? 1 : status.intValue(), raw(o)));
    }

    public Decoded<Service> decodeService(String id, JsonNode value) {
        Check c = Check.root();
        if (!isObject(c, value)) {
            return Decoded.failed(c.errors);
        }
        ObjectNode o = (ObjectNode) value;
        c.noAdditional(o, SERVICE_FIELDS);
        String sid = entryId(c, id, o, "service");
        commonMeta(c, o);
        List<String> hosts = o.has("hosts") ? stringList(c, o, "hosts", EntryLimits.MAX_HOSTS, ResourceCodec::hostOk)
                : List.of();
        hosts = lower(hosts);
        ObjectNode plugins = c.object(o, "plugins");
        String upstreamId = refId(c, o, "upstream_id");
        Boolean ws = c.bool(o, "enable_websocket");
        unsupported(c, o, "script");
        Upstream upstream = null;
        if (o.has("upstream")) {
            upstream = upstream(c.child("upstream"), o.get("upstream"), null);
            if (o.has("upstream_id")) {
                c.fail("only one of \"upstream\" and \"upstream_id\" may be set");
            }
        }
        checkPlugins(c, plugins, registry, PluginRegistry.SchemaType.ROUTE);
        if (!c.errors.isEmpty()) {
            return Decoded.failed(c.errors);
        }
        return Decoded.ok(new Service(sid, text(o, "name"), upstream, upstreamId, hosts,
                plugins == null ? null : plugins.deepCopy(), ws != null && ws, raw(o)));
    }

    public Decoded<Upstream> decodeUpstream(String id, JsonNode value) {
        Check c = Check.root();
        if (!isObject(c, value)) {
            return Decoded.failed(c.errors);
        }
        String uid = entryId(c, id, (ObjectNode) value, "upstream");
        Upstream u = upstream(c, value, uid);
        if (!c.errors.isEmpty()) {
            return Decoded.failed(c.errors);
        }
        return Decoded.ok(u);
    }

    /** Validates an id as APISIX's {@code id_schema}: 1-64 chars of [A-Za-z0-9._-], or a positive integer. */
    public static String checkId(String id) {
        if (id == null || id.isEmpty()) {
            return "string too short, expected at least 1, got 0";
        }
        if (id.length() > 64) {
            return "string too long, expected at most 64, got " + id.length();
        }
        if (!ID_PATTERN.matcher(id).matches()) {
            return "failed to match pattern " + Check.quote(ID_PATTERN_TEXT) + " with " + Check.quote(id);
        }
        return null;
    }

    // ---------------------------------------------------------------- encode

    /** The APISIX JSON of a route: its {@code raw} when it has one, else built from the fields. */
    public ObjectNode encode(Route r) {
        if (r.raw() != null) {
            return r.raw().deepCopy();
        }
        ObjectNode o = JSON.objectNode();
        putIfNotNull(o, "id", r.id());
        putIfNotNull(o, "name", r.name());
        if (r.uris().size() == 1) {
            o.put("uri", r.uris().get(0));
        } else {
            strings(o.putArray("uris"), r.uris());
        }
        if (!r.hosts().isEmpty()) {
            strings(o.putArray("hosts"), r.hosts());
        }
        if (!r.methods().isEmpty()) {
            strings(o.putArray("methods"), r.methods());
        }
        if (r.priority() != 0) {
            o.put("priority", r.priority());
        }
        if (!r.remoteAddrs().isEmpty()) {
            strings(o.putArray("remote_addrs"), r.remoteAddrs());
        }
        if (r.vars() != null) {
            o.set("vars", r.vars().deepCopy());
        }
        if (r.upstream() != null) {
            o.set("upstream", encode(r.upstream()));
        }
        putIfNotNull(o, "upstream_id", r.upstreamId());
        putIfNotNull(o, "service_id", r.serviceId());
        putIfNotNull(o, "plugin_config_id", r.pluginConfigId());
        if (r.plugins() != null) {
            o.set("plugins", r.plugins().deepCopy());
        }
        if (r.timeout() != null) {
            o.set("timeout", encode(r.timeout()));
        }
        if (r.enableWebsocket()) {
            o.put("enable_websocket", true);
        }
        o.put("status", r.status());
        return o;
    }

    public ObjectNode encode(Service s) {
        if (s.raw() != null) {
            return s.raw().deepCopy();
        }
        ObjectNode o = JSON.objectNode();
        putIfNotNull(o, "id", s.id());
        putIfNotNull(o, "name", s.name());
        if (s.upstream() != null) {
            o.set("upstream", encode(s.upstream()));
        }
        putIfNotNull(o, "upstream_id", s.upstreamId());
        if (!s.hosts().isEmpty()) {
            strings(o.putArray("hosts"), s.hosts());
        }
        if (s.plugins() != null) {
            o.set("plugins", s.plugins().deepCopy());
        }
        if (s.enableWebsocket()) {
            o.put("enable_websocket", true);
        }
        return o;
    }

    public ObjectNode encode(Upstream u) {
        if (u.raw() != null) {
            return u.raw().deepCopy();
        }
        ObjectNode o = JSON.objectNode();
        putIfNotNull(o, "id", u.id());
        putIfNotNull(o, "name", u.name());
        o.put("type", u.type());
        ArrayNode nodes = o.putArray("nodes");
        for (UpstreamNode n : u.nodes()) {
            ObjectNode no = nodes.addObject();
            no.put("host", n.host());
            no.put("port", n.port());
            no.put("weight", n.weight());
            if (n.priority() != 0) {
                no.put("priority", n.priority());
            }
        }
        if ("chash".equals(u.type())) {
            o.put("hash_on", u.hashOn());
            putIfNotNull(o, "key", u.key());
        }
        if (u.retries() >= 0) {
            o.put("retries", u.retries());
        }
        if (u.retryTimeout() > 0) {
            o.put("retry_timeout", u.retryTimeout());
        }
        if (u.timeout() != null) {
            o.set("timeout", encode(u.timeout()));
        }
        o.put("pass_host", u.passHost());
        putIfNotNull(o, "upstream_host", u.upstreamHost());
        o.put("scheme", u.scheme());
        if (u.keepalivePool() != null) {
            ObjectNode k = o.putObject("keepalive_pool");
            k.put("size", u.keepalivePool().size());
            k.put("idle_timeout", u.keepalivePool().idleTimeout());
            k.put("requests", u.keepalivePool().requests());
        }
        return o;
    }

    private static ObjectNode encode(Timeout t) {
        ObjectNode o = JSON.objectNode();
        if (t.connect() > 0) {
            o.put("connect", t.connect());
        }
        if (t.send() > 0) {
            o.put("send", t.send());
        }
        if (t.read() > 0) {
            o.put("read", t.read());
        }
        return o;
    }

    private static void putIfNotNull(ObjectNode o, String name, String v) {
        if (v != null) {
            o.put(name, v);
        }
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    // ---------------------------------------------------------------- pieces

    private Upstream upstream(Check c, JsonNode value, String id) {
        if (!isObject(c, value)) {
            return null;
        }
        ObjectNode o = (ObjectNode) value;
        int before = c.errors.size();
        c.noAdditional(o, UPSTREAM_FIELDS);
        if (id == null && o.has("id")) {
            refId(c, o, "id");
        }
        commonMeta(c, o);
        String type = o.has("type") ? c.enumString(o, "type", UPSTREAM_TYPES) : "roundrobin";
        String hashOn = o.has("hash_on") ? c.enumString(o, "hash_on", HASH_ON) : "vars";
        String key = c.string(o, "key", 0, 0);
        String scheme = o.has("scheme") ? c.enumString(o, "scheme", SCHEMES) : "http";
        String passHost = o.has("pass_host") ? c.enumString(o, "pass_host", PASS_HOST) : "pass";
        String upstreamHost = null;
        if (o.has("upstream_host")) {
            String h = c.string(o, "upstream_host", 0, 0);
            if (h != null && c.child("upstream_host").matches(h, HOST_PATTERN, HOST_PATTERN_TEXT)) {
                upstreamHost = h;
            }
        }
        Long retries = c.integer(o, "retries", 0L, null);
        Double retryTimeout = c.number(o, "retry_timeout", 0.0, null);
        Timeout timeout = timeout(c, o);
        KeepalivePool pool = null;
        ObjectNode kp = c.object(o, "keepalive_pool");
        if (kp != null) {
            Check kc = c.child("keepalive_pool");
            kc.noAdditional(kp, KEEPALIVE_POOL_FIELDS);
            Long size = kc.integer(kp, "size", 1L, null);
            Double idle = kc.number(kp, "idle_timeout", 0.0, null);
            Long requests = kc.integer(kp, "requests", 1L, null);
            pool = new KeepalivePool(size == null ? KeepalivePool.DEFAULT_SIZE : size.intValue(),
                    idle == null ? KeepalivePool.DEFAULT_IDLE_TIMEOUT : idle,
                    requests == null ? KeepalivePool.DEFAULT_REQUESTS : requests.intValue());
            if (grpc(scheme) && requests != null && requests != KeepalivePool.DEFAULT_REQUESTS) {
                kc.child("requests").fail("not supported with \"scheme\": " + Check.quote(scheme)
                        + " (HTTP/2 connections to gRPC nodes are not recycled by request count)");
            }
        }
        if (grpc(scheme) && retries != null && retries > 0) {
            c.child("retries").fail("not supported with \"scheme\": " + Check.quote(scheme)
                    + " (a gRPC call is not resent to another node: its messages are streamed up, not kept)");
        }
        if (grpc(scheme) && retryTimeout != null && retryTimeout > 0) {
            c.child("retry_timeout").fail("not supported with \"scheme\": " + Check.quote(scheme)
                    + " (a gRPC call is not resent to another node)");
        }
        ObjectNode tls = c.object(o, "tls");
        if (tls != null) {
            Check tc = c.child("tls");
            tc.noAdditional(tls, UPSTREAM_TLS_FIELDS);
            if (!tls.isEmpty() && !"https".equals(scheme) && !"grpcs".equals(scheme)) {
                tc.fail("only used with \"scheme\": \"https\" or \"grpcs\", got "
                        + Check.quote(String.valueOf(scheme)));
            }
            tc.string(tls, "client_cert", 128, 64 * 1024);
            tc.string(tls, "client_key", 128, 64 * 1024);
            refId(tc, tls, "client_cert_id");
            tc.bool(tls, "verify");
        }
        HealthChecks checks = null;
        ObjectNode checksNode = c.object(o, "checks");
        if (checksNode != null) {
            checks = HealthChecksCodec.decode(c.child("checks"), checksNode,
                    tls != null && (tls.has("client_cert") || tls.has("client_cert_id")));
        }
        String serviceName = c.string(o, "service_name", 1, 256);
        String discoveryType = c.string(o, "discovery_type", 0, 0);
        discovery(c, o, serviceName, discoveryType);

        List<UpstreamNode> nodes = List.of();
        JsonNode nodesNode = o.get("nodes");
        // oneOf: {required: [nodes]}, {required: [service_name, discovery_type]}
        boolean discovered = o.has("service_name") && o.has("discovery_type");
        if (nodesNode != null && discovered) {
            c.fail("value should match only one schema, but matches both schemas 1 and 2");
        } else if (nodesNode == null) {
            if (!discovered) {
                c.fail("value should match only one schema, but matches none");
            }
        } else {
            nodes = nodes(c.child("nodes"), nodesNode, scheme == null ? "http" : scheme);
        }

        // checks APISIX runs after the schema (apisix/upstream.lua check_upstream_conf)
        if ("chash".equals(type) && hashOn != null) {
            if (key == null && !"consumer".equals(hashOn) && !o.has("key")) {
                c.fail("missing key");
            } else if (key != null) {
                if ("vars".equals(hashOn)) {
                    c.child("key").matches(key, HASH_VARS_PATTERN, HASH_VARS_PATTERN_TEXT);
                } else if ("header".equals(hashOn) || "cookie".equals(hashOn)) {
                    c.child("key").matches(key, HASH_HEADER_PATTERN, HASH_HEADER_PATTERN_TEXT);
                }
            }
        }
        if ("rewrite".equals(passHost) && !o.has("upstream_host")) {
            c.fail("property \"upstream_host\" is required when \"pass_host\" is \"rewrite\"");
        }
        if (c.errors.size() != before) {
            return null;
        }
        return new Upstream(id, text(o, "name"), type, nodes, hashOn, key, retries == null ? Upstream.DEFAULT_RETRIES
                : retries.intValue(), retryTimeout == null ? 0 : retryTimeout, timeout, passHost, upstreamHost, scheme,
                pool, raw(o), serviceName, discoveryType, checks);
    }

    /** The discovery types Turnpike implements (docs/discovery.md). */
    public static final Set<String> DISCOVERY_TYPES = Check.set("dns");

    /**
     * {@code discovery_type}, {@code service_name}, {@code discovery_args}: APISIX's dns discovery only. A dns
     * {@code service_name} is {@code name} (SRV, then A/AAAA: APISIX's {@code discovery.dns.order}) or {@code name:port}.
     */
    private static void discovery(Check c, ObjectNode o, String serviceName, String discoveryType) {
        if (discoveryType != null && !DISCOVERY_TYPES.contains(discoveryType)) {
            c.child("discovery_type").fail("discovery type " + Check.quote(discoveryType) + " is not supported by"
                    + " Turnpike (only \"dns\": consul, nacos, eureka, kubernetes and the other registries are not"
                    + " implemented)");
        } else if (discoveryType != null && !o.has("service_name")) {
            c.child("discovery_type").fail("only used with \"service_name\"");
        }
        if (o.has("discovery_args")) {
            c.child("discovery_args").fail("not supported by Turnpike (the dns discovery takes no arguments)");
        }
        if (serviceName != null && "dns".equals(discoveryType)) {
            String why = dnsServiceNameProblem(serviceName);
            if (why != null) {
                c.child("service_name").fail(why + ", got " + Check.quote(serviceName));
            }
        }
    }

    /** Null when {@code s} is {@code name} or {@code name:port} (port 1..65535), else why not. */
    public static String dnsServiceNameProblem(String s) {
        int colon = s.lastIndexOf(':');
        String host = colon >= 0 ? s.substring(0, colon) : s;
        if (colon >= 0) {
            String p = s.substring(colon + 1);
            if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) < 1
                    || Integer.parseInt(p) > 65535) {
                return "expected a DNS name, or name:port with a port 1..65535";
            }
        }
        if (host.isEmpty() || host.length() > 253 || host.startsWith(".") || host.contains("..")
                || !host.matches("^[0-9A-Za-z_.-]+$")) {
            return "expected a DNS name, or name:port with a port 1..65535";
        }
        return null;
    }

    private static List<UpstreamNode> nodes(Check c, JsonNode n, String scheme) {
        int defaultPort = scheme.equals("https") || scheme.equals("grpcs") ? 443 : 80;
        List<UpstreamNode> out = new ArrayList<>();
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                String addr = e.getKey();
                Check ec = c.member(addr, "failed to validate ", " (matching \".*\"): ");
                Long weight = ec.integerValue(e.getValue(), 0L, null);
                UpstreamNode node = parseAddress(c, addr, defaultPort, weight == null ? 0 : weight.intValue());
                if (node != null && weight != null) {
                    out.add(node);
                }
            }
            return out;
        }
        if (!n.isArray()) {
            c.fail("object matches none of the required");
            return out;
        }
        for (int i = 0; i < n.size(); i++) {
            Check ic = c.item(i);
            JsonNode item = n.get(i);
            if (!item.isObject()) {
                ic.wrongType(item, "object");
                continue;
            }
            ObjectNode io = (ObjectNode) item;
            int before = c.errors.size();
            ic.noAdditional(io, NODE_FIELDS);
            for (String req : new String[] {"host", "port", "weight"}) {
                if (!io.has(req)) {
                    ic.required(req);
                }
            }
            String host = ic.string(io, "host", 1, 0);
            if (host != null) {
                String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
                if (h.indexOf(':') >= 0 ? !isIpv6(h) : !HOST_PATTERN.matcher(h).find()) {
                    ic.child("host").fail("failed to match pattern " + Check.quote(HOST_PATTERN_TEXT) + " with "
                            + Check.quote(host));
                }
                host = h;
            }
            Long port = ic.integer(io, "port", 1L, 65535L);
            Long weight = ic.integer(io, "weight", 0L, null);
            Long priority = ic.integer(io, "priority", null, null);
            ic.object(io, "metadata");
            if (c.errors.size() == before) {
                out.add(new UpstreamNode(host, port.intValue(), weight.intValue(),
                        priority == null ? 0 : priority.intValue()));
            }
        }
        return out;
    }

    /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port}; null (and an error) when invalid. */
    private static UpstreamNode parseAddress(Check c, String addr, int defaultPort, int weight) {
        String host;
        String portText = null;
        if (addr.startsWith("[")) {
            int close = addr.indexOf(']');
            if (close < 0) {
                return badAddress(c, addr, "missing ']'");
            }
            host = addr.substring(1, close);
            String rest = addr.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return badAddress(c, addr, "unexpected text after ']'");
                }
                portText = rest.substring(1);
            }
            if (!isIpv6(host)) {
                return badAddress(c, addr, "not an IPv6 address");
            }
        } else {
            int colon = addr.lastIndexOf(':');
            if (colon >= 0 && addr.indexOf(':') != colon) {
                return badAddress(c, addr, "IPv6 addresses must be written in brackets, e.g. [::1]:80");
            }
            host = colon >= 0 ? addr.substring(0, colon) : addr;
            portText = colon >= 0 ? addr.substring(colon + 1) : null;
            if (host.isEmpty()) {
                return badAddress(c, addr, "empty host");
            }
            if (!HOST_PATTERN.matcher(host).find() || host.startsWith("*")) {
                return badAddress(c, addr, "invalid host");
            }
        }
        int port = defaultPort;
        if (portText != null) {
            port = -1;
            if (!portText.isEmpty() && portText.length() <= 5 && portText.chars().allMatch(Character::isDigit)) {
                port = Integer.parseInt(portText);
            }
            if (port < 1 || port > 65535) {
                return badAddress(c, addr, "port must be 1..65535");
            }
        }
        return new UpstreamNode(host, port, weight, 0);
    }

    private static UpstreamNode badAddress(Check c, String addr, String why) {
        new Check(c.errors, FieldPath.member(c.path(), addr), c.prefix())
                .fail("invalid node address " + Check.quote(addr) + ": " + why);
        return null;
    }

    private static boolean isObject(Check c, JsonNode value) {
        if (value == null || !value.isObject()) {
            c.fail("wrong type: expected object, got " + (value == null ? "null" : Check.jsonType(value)));
            return false;
        }
        return true;
    }

    /** The entry id: the key's id, checked against the value's {@code id} when both are present. */
    private static String entryId(Check c, String keyId, ObjectNode o, String kind) {
        String valueId = o.has("id") ? refId(c, o, "id") : null;
        if (keyId != null) {
            String err = checkId(keyId);
            if (err != null) {
                c.child("id").fail(err);
                return keyId;
            }
            if (valueId != null && !valueId.equals(keyId)) {
                c.child("id").fail("wrong " + kind + " id: " + Check.quote(valueId) + " does not match "
                        + Check.quote(keyId));
            }
            return keyId;
        }
        return valueId;
    }

    /** An {@code id_schema} member: string id or positive integer, returned as a string. */
    static String refId(Check c, ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null) {
            return null;
        }
        Check fc = c.child(name);
        if (n.isIntegralNumber()) {
            if (!n.canConvertToLong()) {
                // a BigInteger id (2^64 + 1) would otherwise wrap around to another resource's id
                fc.fail("integer " + n.asText() + " out of range");
                return null;
            }
            if (n.asLong() < 1) {
                fc.fail("expected " + n.asLong() + " to be at least 1");
                return null;
            }
            return Long.toString(n.asLong());
        }
        if (!n.isTextual()) {
            fc.fail("object matches none of the required");
            return null;
        }
        String err = checkId(n.textValue());
        if (err != null) {
            fc.fail(err);
            return null;
        }
        return n.textValue();
    }

    static void commonMeta(Check c, ObjectNode o) {
        c.string(o, "name", 1, 100);
        c.string(o, "desc", 0, 256);
        c.integer(o, "create_time", null, null);
        c.integer(o, "update_time", null, null);
        ObjectNode labels = c.object(o, "labels");
        if (labels != null) {
            Check lc = c.child("labels");
            if (labels.size() > 16) {
                lc.fail("expect object to have at most 16 properties");
            }
            for (Map.Entry<String, JsonNode> e : labels.properties()) {
                Check ec = lc.member(e.getKey(), "failed to validate ", " (matching \".*\"): ");
                String v = ec.stringValue(e.getValue(), 1, 64);
                if (v != null) {
                    ec.matches(v, LABEL_VALUE, "^\\S+$");
                }
            }
        }
    }

    /**
     * Checks a {@code plugins} object against the registry (after the schema, as APISIX does). The error is located at
     * the offending plugin ({@code plugins.key-auth}) and keeps APISIX's message ({@code unknown plugin [key-auth]}).
     */
    static void checkPlugins(Check c, ObjectNode plugins, PluginRegistry registry, PluginRegistry.SchemaType type) {
        if (plugins == null) {
            return;
        }
        PluginRegistry.Problem p = registry.check(plugins, type);
        if (p != null) {
            c.errors.add(new FieldError(FieldPath.member(FieldPath.member(c.path(), "plugins"), p.plugin()),
                    c.prefix() + p.message(), true));
        }
    }

    private static void unsupported(Check c, ObjectNode o, String... names) {
        for (String n : names) {
            if (o.has(n)) {
                c.child(n).fail("not supported by Turnpike");
            }
        }
    }

    private List<String> hosts(Check c, ObjectNode o, String allOf) {
        if (o.has("host") && o.has("hosts")) {
            c.fail(allOf + " failed: value should match only one schema, but matches both schemas 2 and 3");
            return List.of();
        }
        if (o.has("host")) {
            String h = c.string(o, "host", 0, 0);
            return h != null && hostOk(c.child("host"), h) ? List.of(h.toLowerCase(Locale.ROOT)) : List.of();
        }
        if (o.has("hosts")) {
            return lower(stringList(c, o, "hosts", EntryLimits.MAX_HOSTS, ResourceCodec::hostOk));
        }
        return List.of();
    }

    private static List<String> lower(List<String> in) {
        List<String> out = new ArrayList<>(in.size());
        for (String s : in) {
            out.add(s.toLowerCase(Locale.ROOT));
        }
        return out;
    }

    private interface StringRule {
        boolean ok(Check c, String s);
    }

    /** An array (minItems 1, at most {@code maxItems}, unique) of strings each passing {@code rule}. */
    private static List<String> stringList(Check c, ObjectNode o, String name, int maxItems, StringRule rule) {
        ArrayNode a = c.array(o, name, 1, maxItems, true);
        if (a == null) {
            return List.of();
        }
        Check ac = c.child(name);
        List<String> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            Check ic = ac.item(i);
            String s = ic.stringValue(a.get(i), 0, 0);
            if (s != null && rule.ok(ic, s)) {
                out.add(s);
            }
        }
        return out;
    }

    private static boolean uriOk(Check c, String uri) {
        if (uri.isEmpty() || uri.charAt(0) != '/') {
            c.fail("must start with \"/\", got " + Check.quote(uri));
            return false;
        }
        return true;
    }

    private static boolean hostOk(Check c, String host) {
        if (!c.matches(host, HOST_PATTERN, HOST_PATTERN_TEXT)) {
            return false;
        }
        if (host.startsWith("*") && (!host.startsWith("*.") || host.length() < 3)) {
            c.fail("a wildcard host must look like \"*.example.com\", got " + Check.quote(host));
            return false;
        }
        return true;
    }

    static boolean remoteAddrOk(Check c, String addr) {
        if (isIpOrCidr(addr)) {
            return true;
        }
        c.fail("object matches none of the required: IPv4, IPv4/CIDR, IPv6 or IPv6/CIDR, got " + Check.quote(addr));
        return false;
    }

    /** IPv4, IPv4/CIDR (0-32), IPv6, IPv6/CIDR (0-128). */
    public static boolean isIpOrCidr(String addr) {
        int slash = addr.indexOf('/');
        String ip = slash >= 0 ? addr.substring(0, slash) : addr;
        boolean v4 = IPV4.matcher(ip).matches();
        boolean v6 = !v4 && isIpv6(ip);
        if (!v4 && !v6) {
            return false;
        }
        if (slash < 0) {
            return true;
        }
        String bits = addr.substring(slash + 1);
        if (bits.isEmpty() || bits.length() > 3 || !bits.chars().allMatch(Character::isDigit)) {
            return false;
        }
        int b = Integer.parseInt(bits);
        return b <= (v4 ? 32 : 128);
    }

    static boolean isIpv6(String s) {
        if (s.isEmpty() || s.indexOf(':') < 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!(Character.digit(ch, 16) >= 0 || ch == ':' || ch == '.')) {
                return false;
            }
        }
        try {
            // a literal containing ':' is parsed, never resolved
            return InetAddress.getByName(s).getAddress().length == 16;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static Timeout timeout(Check c, ObjectNode o) {
        ObjectNode t = c.object(o, "timeout");
        if (t == null) {
            return null;
        }
        Check tc = c.child("timeout");
        int before = c.errors.size();
        tc.noAdditional(t, TIMEOUT_FIELDS);
        double[] v = new double[3];
        String[] names = {"connect", "send", "read"};
        for (int i = 0; i < 3; i++) {
            if (!t.has(names[i])) {
                tc.required(names[i]);
                continue;
            }
            Double d = tc.number(t, names[i], null, 0.0);
            v[i] = d == null ? Timeout.UNSET : d;
        }
        return c.errors.size() == before ? new Timeout(v[0], v[1], v[2]) : null;
    }

    private static ArrayNode vars(Check c, ObjectNode o) {
        ArrayNode vars = c.array(o, "vars", 0, EntryLimits.MAX_VARS_EXPRESSIONS, false);
        if (vars == null) {
            return null;
        }
        Check vc = c.child("vars");
        int before = c.errors.size();
        for (int i = 0; i < vars.size(); i++) {
            JsonNode item = vars.get(i);
            // lua-resty-expr: an expression [var, op, value], a nested list, or a logical operator "AND"/"OR"/"!AND"/"!OR"
            if (item.isTextual() && i == 0) {
                continue;
            }
            if (!item.isArray()) {
                vc.item(i).wrongType(item, "array");
            } else if (item.size() == 0) {
                vc.item(i).fail("expect array to have at least 2 items");
            }
        }
        if (c.errors.size() == before && vars.size() > 0) {
            varsRule(vc, vars, 1, new int[] {-1}); // the top-level list itself is not an expression
        }
        return vars;
    }

    /**
     * Walks one vars rule the way the engine compiles it (lua-resty-expr v1): counts expressions and depth against
     * {@link EntryLimits}, bounds {@code in} lists, and compiles every {@code ~~} / {@code ~*} pattern with the same
     * {@link LinearRegex#compile} call (same engine, same flags) the data plane uses. Returns false after a failure.
     */
    private static boolean varsRule(Check c, JsonNode rule, int depth, int[] count) {
        if (!rule.isArray() || rule.size() == 0) {
            return true; // the engine reports malformed rules
        }
        if (++count[0] > EntryLimits.MAX_VARS_EXPRESSIONS) {
            c.fail("too many expressions: at most " + EntryLimits.MAX_VARS_EXPRESSIONS
                    + " in one route's vars, nested ones included");
            return false;
        }
        if (depth > EntryLimits.MAX_VARS_DEPTH) {
            c.fail("expressions nested too deep: at most " + EntryLimits.MAX_VARS_DEPTH + " levels");
            return false;
        }
        JsonNode first = rule.get(0);
        boolean logic = first.isTextual() && LOGIC_OPS.contains(first.textValue().toUpperCase(Locale.ROOT));
        if (first.isArray() || logic) {
            for (int i = logic ? 1 : 0; i < rule.size(); i++) {
                if (!varsRule(c.item(i), rule.get(i), depth + 1, count)) {
                    return false;
                }
            }
            return true;
        }
        JsonNode op = rule.size() == 4 ? rule.get(2) : rule.size() == 3 ? rule.get(1) : null;
        JsonNode value = rule.size() == 4 ? rule.get(3) : rule.size() == 3 ? rule.get(2) : null;
        String opText = op != null && op.isTextual() ? op.textValue().toLowerCase(Locale.ROOT) : "";
        if (opText.equals("~~") || opText.equals("~*")) {
            if (!value.isTextual()) {
                c.fail("regex must be a string, got " + Check.jsonType(value));
                return false;
            }
            try {
                LinearRegex.compile(value.textValue(), opText.equals("~*"));
            } catch (IllegalArgumentException e) {
                c.fail("invalid regex " + Check.quote(value.textValue()) + ": " + e.getMessage());
                return false;
            }
        } else if (opText.equals("in") && value.isArray() && value.size() > EntryLimits.MAX_VARS_IN_VALUES) {
            c.fail("\"in\" expects at most " + EntryLimits.MAX_VARS_IN_VALUES + " values, got " + value.size());
            return false;
        }
        return true;
    }

    private static final Set<String> LOGIC_OPS = Check.set("AND", "OR", "!AND", "!OR");

    private static String text(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        return n != null && n.isTextual() ? n.textValue() : null;
    }

    private static boolean grpc(String scheme) {
        return "grpc".equals(scheme) || "grpcs".equals(scheme);
    }
}
