package io.turnpike.engine.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The control API's dns discovery endpoints (docs/discovery.md), answered asynchronously:
 * <ul>
 *   <li>{@code POST /v1/discovery/dns/refresh}, body {@code {"name": "..."}} or none (every name): 200
 *       {@code {"changed": [...], "errors": [...]}} once the new node sets are applied on every loop; 404 for a name
 *       nobody watches, 400 for a bad body, 500 when a listener failed to apply a set, 504 when applying took longer
 *       than {@link #APPLY_TIMEOUT_S} s</li>
 *   <li>{@code GET /v1/discovery/dns/dump}: {@link DnsDiscovery#status()}; 405 for another method</li>
 * </ul>
 * With no {@link DnsDiscovery} both answer 404 {@code {"error_msg":"dns discovery is not configured"}}.
 *
 * <p>Stateless; called on the control API's thread, the futures complete on {@code turnpike-dns} or on whatever
 * thread completed a listener's future.
 */
public final class DnsControlEndpoints {

    /** Path prefix this class answers. */
    public static final String PREFIX = "/v1/discovery/";
    public static final long APPLY_TIMEOUT_S = 30;

    /** An answer: status and JSON body. */
    public record Answer(int status, JsonNode body) {
        static Answer error(int status, String message) {
            return new Answer(status, JsonNodeFactory.instance.objectNode().put("error_msg", message));
        }
    }

    private DnsControlEndpoints() {
    }

    /** True when {@code path} is one of these endpoints' (then {@link #handle} answers it). */
    public static boolean handles(String path) {
        return path.startsWith(PREFIX);
    }

    public static CompletableFuture<Answer> handle(DnsDiscovery dns, String method, String path, String body) {
        boolean refresh = path.equals("/v1/discovery/dns/refresh");
        boolean dump = path.equals("/v1/discovery/dns/dump");
        if (!refresh && !dump) {
            return done(Answer.error(404, path.startsWith("/v1/discovery/dns/") || path.equals("/v1/discovery/dns")
                    ? "not found" : "discovery " + service(path) + " is not configured (Turnpike implements only"
                    + " dns)"));
        }
        if (dns == null) {
            return done(Answer.error(404, "dns discovery is not configured"));
        }
        if (dump) {
            return method.equals("GET") ? dns.statusAsync().thenApply(s -> new Answer(200, s))
                    : done(Answer.error(405, "method not allowed: use GET"));
        }
        if (!method.equals("POST")) {
            return done(Answer.error(405, "method not allowed: use POST"));
        }
        String name;
        try {
            name = name(body);
        } catch (IllegalArgumentException e) {
            return done(Answer.error(400, e.getMessage()));
        }
        return dns.refresh(name).orTimeout(APPLY_TIMEOUT_S, TimeUnit.SECONDS).handle((r, e) -> {
            if (e != null) {
                Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (c instanceof DnsDiscovery.UnknownNameException) {
                    return Answer.error(404, c.getMessage());
                }
                if (c instanceof TimeoutException) {
                    return Answer.error(504, "the new node set was not applied on every loop within "
                            + APPLY_TIMEOUT_S + " s");
                }
                return Answer.error(500, String.valueOf(c.getMessage()));
            }
            ObjectNode o = r.toJson();
            if (r.applyFailed()) {
                o.put("error_msg", "a new node set was not applied on every loop");
                return new Answer(500, o);
            }
            return new Answer(200, o);
        });
    }

    /** The body's {@code name}; null for no body or {@code {}}. */
    static String name(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        JsonNode n;
        try {
            n = io.turnpike.engine.ops.ControlJson.mapper().readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON body: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("expected a JSON object {\"name\": \"...\"} or no body");
        }
        for (String k : (Iterable<String>) n::fieldNames) {
            if (!k.equals("name")) {
                throw new IllegalArgumentException("unknown field \"" + k + "\" (known: name)");
            }
        }
        JsonNode name = n.get("name");
        if (name == null || name.isNull()) {
            return null;
        }
        if (!name.isTextual() || name.textValue().isEmpty()) {
            throw new IllegalArgumentException("\"name\" must be a non-empty string");
        }
        return name.textValue();
    }

    private static String service(String path) {
        String rest = path.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    private static CompletableFuture<Answer> done(Answer a) {
        return CompletableFuture.completedFuture(a);
    }
}
