package io.turnpike.engine.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.plugin.AuthPluginSchemas;
import io.turnpike.engine.plugin.builtin.JwtKeys;

import java.nio.charset.StandardCharsets;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles plugin chains off the event loops, on the snapshot compiler's thread. A route's chain merges its service's
 * plugins, its plugin_config's and its own, by plugin name with APISIX precedence route &gt; plugin_config &gt;
 * service; the global rules form a chain of their own that runs first. Chains whose merged configuration is equal are
 * compiled once and shared (by every route, and across compiles until the configuration changes). Consumers are
 * indexed by credential for the auth plugins.
 */
public final class PluginChainCompiler {
    /** Plugins that carry a consumer's credentials: on a consumer they are not merged into routes. */
    private static final java.util.Set<String> CREDENTIAL_PLUGINS = java.util.Set.of("key-auth", "basic-auth",
            "jwt-auth");

    private final Map<ObjectNode, PluginChain> cache = new HashMap<>();

    /** A route's chain; throws IllegalArgumentException naming the plugin for a configuration the engine refuses. */
    public PluginChain routeChain(ConfigSet config, Route route) {
        return routeChain(config, route, null);
    }

    /**
     * A route's chain, with {@code targets} resolving the upstreams its plugins route to (traffic-split; null refuses
     * such plugins). A chain with such a plugin is compiled for this route each time (its targets belong to this
     * compile), never shared from the cache.
     */
    public PluginChain routeChain(ConfigSet config, Route route, TargetResolver targets) {
        ObjectNode merged = mergedRouteConfig(config, route);
        if (targets != null && resolvesTargets(merged)) {
            return checked(new PluginChain(compileAll(merged, targets)));
        }
        return chain(merged);
    }

    private ObjectNode mergedRouteConfig(ConfigSet config, Route route) {
        ObjectNode merged = JsonNodeFactory.instance.objectNode();
        if (route.serviceId() != null) {
            Service s = config.services().get(route.serviceId());
            if (s != null && s.plugins() != null) {
                merged.setAll(owned(s.plugins(), "/apisix/services/" + route.serviceId()));
            }
        }
        if (route.pluginConfigId() != null) {
            RawResource pc = config.others("plugin_configs").get(route.pluginConfigId());
            if (pc != null && pc.value().get("plugins") instanceof ObjectNode p) {
                merged.setAll(owned(p, "/apisix/plugin_configs/" + route.pluginConfigId()));
            }
        }
        if (route.plugins() != null) {
            merged.setAll(owned(route.plugins(), "/apisix/routes/" + route.id()));
        }
        return perRoute(merged, route);
    }

    /**
     * api-breaker's state is per route wherever it is configured (APISIX keys it by host and URI, never shares it
     * between routes): the route's id is added to its configuration ({@code _route}), so its chain is the route's own
     * and, cached by configuration, keeps its state across compiles while the configuration stays the same.
     */
    private static ObjectNode perRoute(ObjectNode merged, Route route) {
        if (merged.get("api-breaker") instanceof ObjectNode ab) {
            ObjectNode copy = ab.deepCopy();
            copy.put("_route", route.id());
            merged.set("api-breaker", copy);
        }
        return merged;
    }

    private static boolean resolvesTargets(ObjectNode merged) {
        for (Iterator<String> it = merged.fieldNames(); it.hasNext(); ) {
            PluginFactory f = Plugins.factory(it.next());
            if (f != null && f.resolvesTargets()) {
                return true;
            }
        }
        return false;
    }

    /** Plugins whose state belongs to the resource that configured them (APISIX keys their counters by it). */
    private static final java.util.Set<String> OWNED = java.util.Set.of("limit-count", "limit-req", "limit-conn");

    /**
     * {@code plugins} with the owning resource's key added to the configuration of each limit plugin (as
     * {@code _owner}), so routes with equal limit configurations keep separate counters, as in APISIX, while a
     * service's or consumer's limit is one counter for every route using it. Other plugins are untouched (and their
     * chains still shared between routes).
     */
    static ObjectNode owned(ObjectNode plugins, String owner) {
        ObjectNode out = null;
        for (String name : OWNED) {
            if (plugins.get(name) instanceof ObjectNode) {
                if (out == null) {
                    out = plugins.deepCopy();
                }
                ((ObjectNode) out.get(name)).put("_owner", owner);
            }
        }
        return out == null ? plugins : out;
    }

    /** The global rules' plugins, run before every route's chain. */
    public PluginChain globalChain(ConfigSet config, List<String> warnings) {
        List<PluginSpec> specs = new ArrayList<>();
        for (RawResource rule : config.others("global_rules").values()) {
            if (rule.value().get("plugins") instanceof ObjectNode p) {
                try {
                    specs.addAll(compileAll(owned(p, "/apisix/global_rules/" + rule.id())));
                } catch (IllegalArgumentException e) {
                    warnings.add("global_rule " + rule.id() + ": " + e.getMessage() + ", skipped");
                }
            }
        }
        return specs.isEmpty() ? PluginChain.EMPTY : checked(new PluginChain(specs));
    }

    /**
     * Consumers and their credentials (the consumer's own plugins and its 3.x credentials): key-auth keys, basic-auth
     * usernames (with passwords), jwt-auth keys (with their verification keys). A consumer holding a credential that
     * another consumer (or another of its own credentials) holds already, or whose basic-auth or jwt-auth configuration
     * cannot be used, is left out with a warning (fail closed: it authenticates nowhere).
     */
    public ConsumerIndex consumers(ConfigSet config, List<String> warnings) {
        Map<String, RawResource> raw = config.others("consumers");
        if (raw.isEmpty()) {
            consumerMemo.clear();
            return ConsumerIndex.EMPTY;
        }
        Map<String, Consumer> byName = new LinkedHashMap<>();
        List<Map.Entry<String, Consumer>> keys = new ArrayList<>();
        List<BasicAuthCredential> basic = new ArrayList<>();
        List<JwtCredential> jwt = new ArrayList<>();
        Map<String, String> keyOwner = new HashMap<>();
        Map<String, String> basicOwner = new HashMap<>();
        Map<String, String> jwtOwner = new HashMap<>();
        Map<String, ConsumerMemo> seen = new HashMap<>(raw.size() * 2);
        for (RawResource r : raw.values()) {
            JsonNode gid = r.value().get("group_id");
            RawResource group = gid == null ? null : config.others("consumer_groups").get(gid.asText());
            // Unchanged consumers (the same immutable value object, the same group) are not compiled again: a
            // consumer change costs one consumer's compile plus the index, not every consumer's.
            ConsumerMemo m = consumerMemo.get(r.id());
            if (m == null || m.source != r || m.group != group) {
                m = new ConsumerMemo(r, group, compileConsumer(config, r, group));
            }
            seen.put(r.id(), m);
            CompiledConsumer cc = m.compiled;
            if (cc.problem != null) {
                warnings.add("consumer " + cc.username + ": " + cc.problem + ", skipped");
                continue;
            }
            String username = cc.username;
            String problem = null;
            for (String k : cc.keys) {
                String other = keyOwner.get(k);
                if (other != null) {
                    problem = "its key-auth key is also the key of consumer " + other;
                    break;
                }
            }
            for (String user : problem == null ? cc.basic.keySet() : java.util.Set.<String>of()) {
                String other = basicOwner.get(user);
                if (other != null) {
                    problem = "its basic-auth username is also the username of consumer " + other;
                    break;
                }
            }
            for (String key : problem == null ? cc.jwt.keySet() : java.util.Set.<String>of()) {
                String other = jwtOwner.get(key);
                if (other != null) {
                    problem = "its jwt-auth key is also the key of consumer " + other;
                    break;
                }
            }
            if (problem != null) {
                warnings.add("consumer " + username + ": " + problem + ", skipped");
                continue;
            }
            Consumer c = cc.consumer;
            for (String k : cc.keys) {
                keyOwner.put(k, username);
                keys.add(Map.entry(k, c));
            }
            cc.basic.forEach((user, b) -> {
                basicOwner.put(user, username);
                basic.add(b);
            });
            cc.jwt.forEach((key, j) -> {
                jwtOwner.put(key, username);
                jwt.add(j);
            });
            byName.put(username, c);
        }
        consumerMemo.clear();
        consumerMemo.putAll(seen);
        return new ConsumerIndex(byName, keys, basic, jwt);
    }

    /** One consumer compiled from its value (and its group's): its chain and credentials, or why it is left out. */
    private record CompiledConsumer(String username, Consumer consumer, List<String> keys,
                                    Map<String, BasicAuthCredential> basic, Map<String, JwtCredential> jwt,
                                    String problem) {
    }

    private record ConsumerMemo(RawResource source, RawResource group, CompiledConsumer compiled) {
    }

    /** The last compile's consumers, by id: reused while their value and group are the same objects. */
    private final Map<String, ConsumerMemo> consumerMemo = new HashMap<>();

    private CompiledConsumer compileConsumer(ConfigSet config, RawResource r, RawResource group) {
        ObjectNode v = r.value();
        String username = v.path("username").asText(r.id());
        JsonNode gid = v.get("group_id");
        // The consumer's plugins other than credentials, merged over the route's at run time; its group's plugins
        // first (APISIX: consumer > consumer_group > route).
        ObjectNode own = JsonNodeFactory.instance.objectNode();
        if (gid != null) {
            if (group == null) {
                return failed(username, "consumer group " + gid.asText() + " not found");
            }
            if (group.value().get("plugins") instanceof ObjectNode gp0) {
                ObjectNode gp = owned(gp0, "/apisix/consumer_groups/" + gid.asText());
                gp.fields().forEachRemaining(e -> {
                    if (!CREDENTIAL_PLUGINS.contains(e.getKey())) {
                        own.set(e.getKey(), e.getValue());
                    }
                });
            }
        }
        if (v.get("plugins") instanceof ObjectNode ps0) {
            ObjectNode ps = owned(ps0, "/apisix/consumers/" + username);
            ps.fields().forEachRemaining(e -> {
                if (!CREDENTIAL_PLUGINS.contains(e.getKey())) {
                    own.set(e.getKey(), e.getValue());
                }
            });
        }
        PluginChain consumerChain;
        try {
            consumerChain = chain(own);
            for (PluginSpec p : consumerChain.plugins()) {
                if (!p.consumerAllowed()) {
                    throw new IllegalArgumentException("plugin " + p.name + " cannot run from a consumer");
                }
            }
        } catch (IllegalArgumentException e) {
            return failed(username, e.getMessage());
        }
        Consumer c = new Consumer(username, gid == null ? null : gid.asText(), consumerChain);
        // Credentials: the consumer's own plugins, and its 3.x credentials (the etcd source folds
        // consumers/<name>/credentials/<id> into "credentials"; the standalone file writes them there).
        List<JsonNode> holders = new ArrayList<>();
        holders.add(v.path("plugins"));
        v.path("credentials").forEach(cred -> holders.add(cred.path("plugins")));
        List<String> ownKeys = new ArrayList<>();
        Map<String, BasicAuthCredential> ownBasic = new LinkedHashMap<>();
        Map<String, JwtCredential> ownJwt = new LinkedHashMap<>();
        for (JsonNode h : holders) {
            JsonNode ka = h.path("key-auth").get("key");
            if (ka != null) {
                if (ownKeys.contains(ka.asText())) {
                    return failed(username, "its key-auth key is also the key of consumer " + username);
                }
                ownKeys.add(ka.asText());
            }
            if (h.get("basic-auth") instanceof ObjectNode ba) {
                String err = AuthPluginSchemas.basicAuth(ba, true);
                if (err != null) {
                    return failed(username, "basic-auth: " + err);
                }
                String user = ba.get("username").asText();
                if (ownBasic.containsKey(user)) {
                    return failed(username, "its basic-auth username is also the username of consumer " + username);
                }
                ownBasic.put(user, new BasicAuthCredential(c, user.getBytes(StandardCharsets.UTF_8),
                        ba.get("password").asText().getBytes(StandardCharsets.UTF_8)));
            }
            if (h.get("jwt-auth") instanceof ObjectNode ja) {
                JwtCredential j;
                try {
                    j = JwtKeys.credential(c, ja);
                } catch (IllegalArgumentException e) {
                    return failed(username, "jwt-auth: " + e.getMessage());
                }
                String key = ja.get("key").asText();
                if (ownJwt.containsKey(key)) {
                    return failed(username, "its jwt-auth key is also the key of consumer " + username);
                }
                ownJwt.put(key, j);
            }
        }
        return new CompiledConsumer(username, c, List.copyOf(ownKeys), ownBasic, ownJwt, null);
    }

    private static CompiledConsumer failed(String username, String problem) {
        return new CompiledConsumer(username, null, List.of(), Map.of(), Map.of(), problem);
    }

    private PluginChain chain(ObjectNode merged) {
        if (merged.isEmpty()) {
            return PluginChain.EMPTY;
        }
        PluginChain c = cache.get(merged);
        if (c == null) {
            c = checked(new PluginChain(compileAll(merged)));
            cache.put(merged, c);
        }
        return c;
    }

    private static PluginChain checked(PluginChain c) {
        if (c.maxHeaderEdits > HeaderEdits.CAPACITY) {
            throw new IllegalArgumentException("the plugins record up to " + c.maxHeaderEdits
                    + " header edits per request, more than the " + HeaderEdits.CAPACITY + " allowed");
        }
        return c;
    }

    private static List<PluginSpec> compileAll(ObjectNode plugins) {
        return compileAll(plugins, null);
    }

    private static List<PluginSpec> compileAll(ObjectNode plugins, TargetResolver targets) {
        List<PluginSpec> specs = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = plugins.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            PluginFactory f = Plugins.factory(name);
            if (f == null) {
                throw new IllegalArgumentException("unknown plugin [" + name + "]");
            }
            if (!(e.getValue() instanceof ObjectNode conf)) {
                throw new IllegalArgumentException("plugin " + name + ": configuration must be an object");
            }
            if (conf.path("_meta").path("disable").asBoolean(false)) {
                continue;
            }
            try {
                specs.add(targets == null ? f.compile(conf) : f.compile(conf, targets));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("plugin " + name + ": " + ex.getMessage(), ex);
            }
        }
        return specs;
    }

    /** Forgets chains of configurations no longer in use (call after a full compile). */
    public void retainOnly(java.util.Set<PluginChain> inUse) {
        cache.values().removeIf(c -> !inUse.contains(c));
    }
}
