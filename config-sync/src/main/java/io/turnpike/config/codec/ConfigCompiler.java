package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Resource;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Upstream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.pcollections.TreePMap;

/**
 * Builds a {@link ConfigSet} from raw entries: decodes each with the {@link ResourceCodec}, rejects duplicates,
 * and resolves references (route.upstream_id, route.service_id, route.plugin_config_id, service.upstream_id). A bad
 * entry, or one that references a missing or rejected entry, is left out and reported; the rest is kept.
 *
 * <p>Stateless and thread-safe; meant to run on the config-sync thread, off the request path.
 */
public final class ConfigCompiler {

    private static final Pattern USERNAME = Pattern.compile("^[a-zA-Z0-9_-]+$");

    private final ResourceCodec codec;
    private final SslCodec sslCodec = new SslCodec();
    private final PluginResourceCodec pluginCodec;

    public ConfigCompiler() {
        this(new ResourceCodec());
    }

    public ConfigCompiler(ResourceCodec codec) {
        this(codec, false);
    }

    /**
     * @param memoize for a key-value store source (etcd): keep the decode result of each value between compiles,
     *                keyed by the identity of its JsonNode, so a source that re-delivers a large set after a small
     *                change re-decodes only the changed values; deliver routes as a persistent map ordered by id (the
     *                store's key order), so {@link #applyRoutes} can derive the next configuration in O(change).
     *                The source must not mutate a JsonNode once passed in. Not thread-safe when true: one compiler
     *                per source thread.
     */
    public ConfigCompiler(ResourceCodec codec, boolean memoize) {
        this.codec = codec;
        this.pluginCodec = new PluginResourceCodec(codec.registry());
        this.memoize = memoize;
    }

    private final boolean memoize;
    private IdentityHashMap<JsonNode, Object[]> memo = new IdentityHashMap<>();
    private IdentityHashMap<JsonNode, Object[]> nextMemo;

    /** Decode through the memo: the same JsonNode instance under the same id decodes once. */
    @SuppressWarnings("unchecked")
    private <T> T memoized(String id, JsonNode value, java.util.function.Supplier<T> decode) {
        if (!memoize || value == null) {
            return decode.get();
        }
        Object[] hit = memo.get(value);
        T result = hit != null && id.equals(hit[0]) ? (T) hit[1] : decode.get();
        nextMemo.put(value, new Object[]{id, result});
        return result;
    }

    /**
     * Decodes one route, service or upstream ahead of the next {@link #compile} (which then finds the result in the
     * memo): a source that receives its values in pages decodes each page while it waits for the next one. The same
     * decode as {@link #compile} runs (same id, same JsonNode instance): results and problems are unchanged; a value
     * that {@link #compile} does not reach (a duplicate, an unknown resource) is forgotten at that compile. No-op
     * without memoizing, and for other resources (their decode depends on nothing but is cheap).
     */
    public void predecode(String resource, String id, JsonNode value) {
        if (!memoize || id == null || value == null) {
            return;
        }
        Resource r = Resource.of(resource);
        if (r == null) {
            return;
        }
        Object result;
        try {
            switch (r) {
                case ROUTES -> result = codec.decodeRoute(id, value);
                case SERVICES -> result = codec.decodeService(id, value);
                case UPSTREAMS -> result = codec.decodeUpstream(id, value);
                default -> {
                    return;
                }
            }
        } catch (RuntimeException e) {
            return; // compile decodes it again and meets the same failure where it always did
        }
        memo.put(value, new Object[]{id, result});
    }

    public CompileResult compile(long version, List<ConfigEntry> entries) {
        if (memoize) {
            nextMemo = new IdentityHashMap<>(Math.max(32, memo.size()));
        }
        try {
            return compile0(version, entries);
        } finally {
            if (memoize) {
                memo = nextMemo; // only what this compile saw: entries deleted since are forgotten
                nextMemo = null;
            }
        }
    }

    private CompileResult compile0(long version, List<ConfigEntry> entries) {
        List<ConfigProblem> problems = new ArrayList<>();
        Map<String, List<ConfigEntry>> byResource = new LinkedHashMap<>();
        for (Resource r : Resource.values()) {
            byResource.put(r.key(), new ArrayList<>());
        }
        Map<String, ConfigEntry> seen = new HashMap<>();
        for (ConfigEntry e : entries) {
            Resource r = Resource.of(e.resource());
            if (r == null) {
                problems.add(problem(e, "", "unknown resource " + Check.quote(e.resource())));
                continue;
            }
            if (e.id() == null) {
                problems.add(problem(e, "", "property \"" + r.idField() + "\" is required"));
                continue;
            }
            ConfigEntry first = seen.putIfAbsent(r.key() + '\u0000' + e.id(), e);
            if (first != null) {
                problems.add(problem(e, r.idField(), "duplicate " + r.idField() + " " + Check.quote(e.id())
                        + (first.index() >= 0 ? " (first defined at " + r.key() + "[" + first.index() + "]"
                        + (first.line() > 0 ? ", line " + first.line() : "") + ")" : "")));
                continue;
            }
            byResource.get(r.key()).add(e);
        }

        Map<String, Map<String, RawResource>> others = new LinkedHashMap<>();
        for (Resource r : Resource.values()) {
            if (r.typed()) {
                continue;
            }
            Map<String, RawResource> m = new LinkedHashMap<>();
            for (ConfigEntry e : byResource.get(r.key())) {
                String err = checkOtherId(r, e.id());
                if (err != null) {
                    problems.add(problem(e, r.idField(), "property \"" + r.idField() + "\" validation failed: " + err));
                } else if (e.value() == null || !e.value().isObject()) {
                    problems.add(problem(e, "", "wrong type: expected object, got "
                            + (e.value() == null ? "null" : Check.jsonType(e.value()))));
                } else if (r == Resource.SSLS
                        && !report(e, memoized(e.id(), e.value(), () -> sslCodec.decode(e.id(), e.value())), problems)) {
                    continue; // an invalid ssl (bad PEM, expired, key/cert mismatch) is left out, the rest is kept
                } else if (r != Resource.SSLS && !report(e, memoized(e.id(), e.value(),
                        () -> pluginCodec.decode(r, e.id(), e.value())), problems)) {
                    continue; // e.g. a plugin Turnpike does not implement: left out, the rest is kept
                } else {
                    m.put(e.id(), new RawResource(e.id(), ((ObjectNode) e.value()).deepCopy()));
                }
            }
            if (!m.isEmpty()) {
                others.put(r.key(), m);
            }
        }

        // memoizing: delivered as persistent maps ordered by id, built in one linear pass from a sorted map
        Map<String, Upstream> upstreams = memoize ? new java.util.TreeMap<>() : new LinkedHashMap<>();
        for (ConfigEntry e : byResource.get(Resource.UPSTREAMS.key())) {
            Decoded<Upstream> d = memoized(e.id(), e.value(), () -> codec.decodeUpstream(e.id(), e.value()));
            if (report(e, d, problems)) {
                upstreams.put(e.id(), d.value());
            }
        }
        Map<String, Service> services = new LinkedHashMap<>();
        for (ConfigEntry e : byResource.get(Resource.SERVICES.key())) {
            Decoded<Service> d = memoized(e.id(), e.value(), () -> codec.decodeService(e.id(), e.value()));
            if (!report(e, d, problems)) {
                continue;
            }
            Service s = d.value();
            if (s.upstreamId() != null && !upstreams.containsKey(s.upstreamId())) {
                problems.add(problem(e, "upstream_id", "failed to fetch upstream info by upstream id ["
                        + s.upstreamId() + "]"));
                continue;
            }
            services.put(e.id(), s);
        }
        Map<String, RawResource> pluginConfigs = others.getOrDefault(Resource.PLUGIN_CONFIGS.key(), Map.of());
        Map<String, Route> routes = memoize ? new java.util.TreeMap<>() : new LinkedHashMap<>();
        for (ConfigEntry e : byResource.get(Resource.ROUTES.key())) {
            Decoded<Route> d = memoized(e.id(), e.value(), () -> codec.decodeRoute(e.id(), e.value()));
            if (!report(e, d, problems)) {
                continue;
            }
            Route r = d.value();
            if (referencesResolve(e, r, upstreams, services, pluginConfigs, problems)) {
                routes.put(e.id(), r);
            }
        }
        String file = problems.isEmpty() ? null : problems.get(0).file();
        if (file != null && problems.stream().allMatch(p -> file.equals(p.file()))) {
            problems.sort((a, b) -> Integer.compare(a.line(), b.line()));
        }
        return new CompileResult(new ConfigSet(version,
                memoize ? TreePMap.fromSortedMap((java.util.SortedMap<String, Route>) routes) : routes, services,
                memoize ? TreePMap.fromSortedMap((java.util.SortedMap<String, Upstream>) upstreams) : upstreams,
                others), problems);
    }

    /**
     * Derives the next configuration from {@code previous} (a result of this compiler) when only routes changed: each
     * changed route is decoded and its references checked against {@code previous}'s services, upstreams and plugin
     * configs (unchanged by contract); everything else is shared. O(changed routes x log routes).
     *
     * @param changed route id -> its entry, or null when the route is gone (deleted, or its value left out earlier by
     *                the source with a problem of its own)
     */
    public CompileResult applyRoutes(CompileResult previous, long version, Map<String, ConfigEntry> changed) {
        return applyChanges(previous, version, changed, Map.of());
    }

    /**
     * {@link #applyRoutes} with upstream changes too: each changed upstream must decode and stay (an upstream that is
     * deleted or invalid, or a new one while some entry names a missing upstream, changes which routes are valid:
     * this returns null and the caller compiles everything).
     *
     * @param upstreams upstream id -> its entry, or null when gone
     * @return the next configuration, or null when the change cannot be applied incrementally
     */
    public CompileResult applyChanges(CompileResult previous, long version, Map<String, ConfigEntry> changed,
                                      Map<String, ConfigEntry> upstreamChanges) {
        return applyChanges(previous, version, changed, upstreamChanges, Map.of());
    }

    /** Resources whose entries can change incrementally besides routes and upstreams (no route recompiled). */
    public static final java.util.Set<String> INCREMENTAL_OTHERS = java.util.Set.of(Resource.CONSUMERS.key(),
            Resource.PLUGIN_CONFIGS.key(), Resource.GLOBAL_RULES.key());

    /**
     * As above, with consumers, plugin_configs and global_rules too ({@link #INCREMENTAL_OTHERS}):
     * {@code otherChanges} maps a resource to its changed entries, each id to its value (a consumer with its
     * credentials folded in, as a full compile sees it) or to null when the entry is gone. An entry that does not
     * validate is left out and reported, like a route. Those maps become persistent, so a change costs O(log n)
     * whatever their size. Null (compile everything) when a plugin_config is deleted or invalid, or when one appears
     * while a route names a missing one: route validity would change.
     */
    public CompileResult applyChanges(CompileResult previous, long version, Map<String, ConfigEntry> changed,
                                      Map<String, ConfigEntry> upstreamChanges,
                                      Map<String, Map<String, ConfigEntry>> otherChanges) {
        if (!memoize) {
            throw new IllegalStateException("incremental compiles need a memoizing compiler (persistent maps)");
        }
        ConfigSet prev = previous.config();
        Map<String, Upstream> upstreams = prev.upstreams();
        if (!upstreamChanges.isEmpty()) {
            TreePMap<String, Upstream> up = upstreams instanceof TreePMap<String, Upstream> t ? t
                    : TreePMap.from(upstreams);
            boolean dangling = false;
            for (ConfigProblem p : previous.problems()) {
                dangling |= "upstream_id".equals(p.field());
            }
            for (Map.Entry<String, ConfigEntry> c : upstreamChanges.entrySet()) {
                ConfigEntry e = c.getValue();
                if (e == null || (!up.containsKey(c.getKey()) && dangling)) {
                    return null;
                }
                Decoded<Upstream> d = codec.decodeUpstream(e.id(), e.value());
                if (!d.ok()) {
                    return null;
                }
                memo.put(e.value(), new Object[]{e.id(), d});
                up = up.plus(c.getKey(), d.value());
            }
            upstreams = up;
        }
        Map<String, ConfigEntry> pcChanges = otherChanges.getOrDefault(Resource.PLUGIN_CONFIGS.key(), Map.of());
        if (!pcChanges.isEmpty()) {
            boolean dangling = false;
            for (ConfigProblem p : previous.problems()) {
                dangling |= "plugin_config_id".equals(p.field());
            }
            Map<String, RawResource> pcs = prev.others(Resource.PLUGIN_CONFIGS.key());
            for (Map.Entry<String, ConfigEntry> c : pcChanges.entrySet()) {
                ConfigEntry e = c.getValue();
                if (e == null || (!pcs.containsKey(c.getKey()) && dangling) || checkOtherId(Resource.PLUGIN_CONFIGS,
                        e.id()) != null || !(e.value() instanceof ObjectNode)
                        || !pluginCodec.decode(Resource.PLUGIN_CONFIGS, e.id(), e.value()).ok()) {
                    return null;
                }
            }
        }
        TreePMap<String, Route> routes = prev.routes() instanceof TreePMap<String, Route> t ? t
                : TreePMap.from(prev.routes());
        List<ConfigProblem> problems = new ArrayList<>(previous.problems().size() + 1);
        for (ConfigProblem p : previous.problems()) {
            Map<String, ConfigEntry> oc = otherChanges.get(p.resource());
            if (!(Resource.ROUTES.key().equals(p.resource()) && changed.containsKey(p.id()))
                    && !(Resource.UPSTREAMS.key().equals(p.resource()) && upstreamChanges.containsKey(p.id()))
                    && !(oc != null && oc.containsKey(p.id()))) {
                problems.add(p);
            }
        }
        Map<String, Map<String, RawResource>> others = prev.others();
        if (!otherChanges.isEmpty()) {
            Map<String, Map<String, RawResource>> o = new LinkedHashMap<>(prev.others());
            for (Map.Entry<String, Map<String, ConfigEntry>> rc : otherChanges.entrySet()) {
                Resource r = Resource.of(rc.getKey());
                if (r == null || !INCREMENTAL_OTHERS.contains(r.key())) {
                    throw new IllegalArgumentException("not incremental: " + rc.getKey());
                }
                Map<String, RawResource> before = prev.others(r.key());
                TreePMap<String, RawResource> m = before instanceof TreePMap<String, RawResource> t ? t
                        : TreePMap.from(before);
                for (Map.Entry<String, ConfigEntry> c : rc.getValue().entrySet()) {
                    m = m.minus(c.getKey());
                    ConfigEntry e = c.getValue();
                    if (e == null) {
                        continue;
                    }
                    String err = checkOtherId(r, e.id());
                    if (err != null) {
                        problems.add(problem(e, r.idField(), "property \"" + r.idField() + "\" validation failed: "
                                + err));
                    } else if (e.value() == null || !e.value().isObject()) {
                        problems.add(problem(e, "", "wrong type: expected object, got "
                                + (e.value() == null ? "null" : Check.jsonType(e.value()))));
                    } else if (report(e, pluginCodec.decode(r, e.id(), e.value()), problems)) {
                        m = m.plus(e.id(), new RawResource(e.id(), ((ObjectNode) e.value()).deepCopy()));
                    }
                }
                if (m.isEmpty()) {
                    o.remove(r.key());
                } else {
                    o.put(r.key(), m);
                }
            }
            others = o;
        }
        Map<String, RawResource> pluginConfigs = others.getOrDefault(Resource.PLUGIN_CONFIGS.key(), Map.of());
        for (Map.Entry<String, ConfigEntry> c : changed.entrySet()) {
            String id = c.getKey();
            ConfigEntry e = c.getValue();
            routes = routes.minus(id);
            if (e == null) {
                continue;
            }
            Decoded<Route> d = codec.decodeRoute(e.id(), e.value());
            memo.put(e.value(), new Object[]{e.id(), d});
            if (!report(e, d, problems)) {
                continue;
            }
            Route r = d.value();
            if (referencesResolve(e, r, upstreams, prev.services(), pluginConfigs, problems)) {
                routes = routes.plus(id, r);
            }
        }
        return new CompileResult(new ConfigSet(version, routes, prev.services(), upstreams, others), problems);
    }

    /** Forgets the memoized decode of a value that is gone (incremental mode: keeps the memo from growing). */
    public void forget(JsonNode value) {
        if (memoize && value != null) {
            memo.remove(value);
        }
    }

    /** A route's upstream_id, service_id and plugin_config_id name existing entries; else one problem is added. */
    private static boolean referencesResolve(ConfigEntry e, Route r, Map<String, Upstream> upstreams,
                                             Map<String, Service> services, Map<String, RawResource> pluginConfigs,
                                             List<ConfigProblem> problems) {
        if (r.upstreamId() != null && !upstreams.containsKey(r.upstreamId())) {
            problems.add(problem(e, "upstream_id", "failed to fetch upstream info by upstream id ["
                    + r.upstreamId() + "]"));
        } else if (r.serviceId() != null && !services.containsKey(r.serviceId())) {
            problems.add(problem(e, "service_id", "failed to fetch service info by service id ["
                    + r.serviceId() + "]"));
        } else if (r.pluginConfigId() != null && !pluginConfigs.containsKey(r.pluginConfigId())) {
            problems.add(problem(e, "plugin_config_id", "failed to fetch plugin config info by plugin config id ["
                    + r.pluginConfigId() + "]"));
        } else {
            return true;
        }
        return false;
    }

    private static String checkOtherId(Resource r, String id) {
        switch (r) {
            case CONSUMERS:
                return USERNAME.matcher(id).matches() && id.length() <= 100 ? null
                        : "failed to match pattern \"^[a-zA-Z0-9_-]+$\" with " + Check.quote(id);
            case PLUGIN_METADATA:
            case SECRETS:
                // plugin name; secret ids look like "vault/1"
                return id.isEmpty() ? "string too short, expected at least 1, got 0" : null;
            default:
                return ResourceCodec.checkId(id);
        }
    }

    private static <T> boolean report(ConfigEntry e, Decoded<T> d, List<ConfigProblem> problems) {
        for (FieldError fe : d.errors()) {
            problems.add(problem(e, fe.field(), fe.message()));
        }
        return d.ok();
    }

    static ConfigProblem problem(ConfigEntry e, String field, String message) {
        int line = 0;
        for (String p = field; p != null && line <= 0; p = FieldPath.parent(p)) {
            line = p.isEmpty() ? e.line() : e.lines().lineOf(p);
        }
        return new ConfigProblem(e.resource(), e.id(), e.index(), field, message, e.file(), line);
    }

    /** Convenience for callers with a single value (the Admin API's schema/validate). */
    public List<FieldError> validate(String resource, String id, JsonNode value) {
        Resource r = Resource.of(resource);
        if (r == Resource.ROUTES) {
            return codec.decodeRoute(id, value).errors();
        }
        if (r == Resource.SERVICES) {
            return codec.decodeService(id, value).errors();
        }
        if (r == Resource.UPSTREAMS) {
            return codec.decodeUpstream(id, value).errors();
        }
        if (r == Resource.SSLS) {
            return sslCodec.decode(id, value).errors();
        }
        if (r == null) {
            return List.of(new FieldError("", "unknown resource " + Check.quote(resource)));
        }
        return pluginCodec.decode(r, id, value).errors();
    }

    /** Validates a consumer credential ({@code /consumers/<name>/credentials/<id>}) for the Admin API. */
    public List<FieldError> validateCredential(JsonNode value) {
        return pluginCodec.decodeCredential(value).errors();
    }
}
