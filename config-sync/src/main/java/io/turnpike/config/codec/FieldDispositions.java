package io.turnpike.config.codec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What becomes of every field the resource codecs accept: the engine acts on it, config sync checks it completely
 * (only values that need no further action pass), it is stored and returned only, or it is refused. Fail closed: a
 * field that is accepted and silently not acted on would let an APISIX configuration lose its meaning (an
 * authentication, a health check, a WebSocket upgrade) without a word.
 *
 * <p>Two tests hold the table to the code: {@code FieldDispositionsTest} (config-sync) asserts that each scope lists
 * exactly the codec's accepted field set, and that each {@link Disposition#REFUSED} field with its sample value is
 * refused; {@code FieldDispositionsEngineTest} (engine) asserts that each {@link Disposition#ENGINE} field's evidence
 * (the model accessor, or JSON key, the engine reads) really occurs in the engine's bytecode. Adding a field to a
 * codec without a line here, or marking a field ENGINE that the engine never reads, fails the build.
 */
public final class FieldDispositions {

    public enum Disposition {
        /** The data plane acts on it; {@link Field#evidence()} names what the engine reads. */
        ENGINE,
        /** Checked by config sync so that only values needing no engine action pass (plugins: registered only). */
        CHECKED,
        /** Stored and returned (Admin API), used in messages; no behaviour attached, in APISIX either. */
        METADATA,
        /** Refused whenever set (or set to a value other than the default); {@link Field#evidence()} is a sample. */
        REFUSED
    }

    /**
     * One accepted field.
     *
     * @param scope       the object it belongs to: {@code route}, {@code upstream.nodes[]}, {@code ssl.client}, ...
     * @param evidence    ENGINE: space-separated tokens the engine bytecode must contain, {@code Route.timeout} (a
     *                    call of that accessor of {@code io.turnpike.config.model}) or {@code "client_cert"} (a string
     *                    constant, for fields read from the raw JSON); REFUSED: a JSON value that must be refused;
     *                    CHECKED, METADATA: why
     */
    public record Field(String scope, String name, Disposition disposition, String evidence) {
    }

    private static final List<Field> FIELDS = new ArrayList<>();

    private static void add(String scope, Disposition d, String evidence, String... names) {
        for (String n : names) {
            FIELDS.add(new Field(scope, n, d, evidence));
        }
    }

    private static void meta(String scope, String... names) {
        add(scope, Disposition.METADATA, "identity and description", names);
    }

    private static final String PLUGINS = "only plugins of the PluginRegistry pass, each checked by its validator";

    static {
        String s = "route";
        meta(s, "id", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.ENGINE, "Route.uris", "uri", "uris");
        add(s, Disposition.ENGINE, "Route.hosts", "host", "hosts");
        add(s, Disposition.ENGINE, "Route.remoteAddrs", "remote_addr", "remote_addrs");
        add(s, Disposition.ENGINE, "Route.methods", "methods");
        add(s, Disposition.ENGINE, "Route.priority", "priority");
        add(s, Disposition.ENGINE, "Route.vars", "vars");
        add(s, Disposition.ENGINE, "Route.timeout", "timeout");
        add(s, Disposition.ENGINE, "ConfigSet.upstreamOf", "upstream", "upstream_id");
        add(s, Disposition.ENGINE, "Route.serviceId ConfigSet.upstreamOf", "service_id");
        add(s, Disposition.ENGINE, "Route.enabled", "status");
        add(s, Disposition.CHECKED, PLUGINS, "plugins");
        add(s, Disposition.CHECKED, "must name an existing plugin_config, whose plugins are checked", "plugin_config_id");
        add(s, Disposition.ENGINE, "Route.enableWebsocket \"enable_websocket\"", "enable_websocket");
        add(s, Disposition.REFUSED, "\"grpc\"", "service_protocol");
        add(s, Disposition.REFUSED, "\"function(vars) return true end\"", "filter_func");
        add(s, Disposition.REFUSED, "\"return 1\"", "script");
        add(s, Disposition.REFUSED, "\"1\"", "script_id");

        s = "service";
        meta(s, "id", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.ENGINE, "ConfigSet.upstreamOf", "upstream", "upstream_id");
        add(s, Disposition.ENGINE, "Service.hosts", "hosts");
        add(s, Disposition.CHECKED, PLUGINS, "plugins");
        add(s, Disposition.ENGINE, "Service.enableWebsocket", "enable_websocket");
        add(s, Disposition.REFUSED, "\"return 1\"", "script");

        s = "upstream";
        meta(s, "id", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.ENGINE, "Upstream.nodes", "nodes");
        add(s, Disposition.ENGINE, "Upstream.retries", "retries");
        add(s, Disposition.ENGINE, "Upstream.timeout", "timeout");
        add(s, Disposition.ENGINE, "Upstream.type", "type");
        add(s, Disposition.ENGINE, "Upstream.hashOn", "hash_on");
        add(s, Disposition.ENGINE, "Upstream.key", "key");
        add(s, Disposition.ENGINE, "Upstream.scheme", "scheme"); // grpc proxied over HTTP/2; grpcs refused: FailClosedTest
        add(s, Disposition.ENGINE, "Upstream.passHost", "pass_host");
        add(s, Disposition.ENGINE, "Upstream.upstreamHost", "upstream_host");
        add(s, Disposition.ENGINE, "Upstream.keepalivePool", "keepalive_pool");
        add(s, Disposition.ENGINE, "Upstream.raw \"tls\"", "tls");
        add(s, Disposition.ENGINE, "Upstream.retryTimeout", "retry_timeout");
        add(s, Disposition.ENGINE, "Upstream.checks", "checks");
        add(s, Disposition.ENGINE, "Upstream.discoveryType", "discovery_type"); // only "dns": FailClosedTest
        add(s, Disposition.ENGINE, "Upstream.serviceName", "service_name");
        add(s, Disposition.REFUSED, "{}", "discovery_args");

        s = "upstream.checks"; // docs/health.md; the HealthChecker reads each value
        add(s, Disposition.ENGINE, "HealthChecks.active", "active");
        add(s, Disposition.ENGINE, "HealthChecks.passive", "passive");

        s = "upstream.checks.active";
        add(s, Disposition.ENGINE, "HealthChecks.Active.type", "type");
        add(s, Disposition.ENGINE, "HealthChecks.Active.timeout", "timeout");
        add(s, Disposition.ENGINE, "HealthChecks.Active.concurrency", "concurrency");
        add(s, Disposition.ENGINE, "HealthChecks.Active.host", "host");
        add(s, Disposition.ENGINE, "HealthChecks.Active.port", "port");
        add(s, Disposition.ENGINE, "HealthChecks.Active.httpMethod", "http_method");
        add(s, Disposition.ENGINE, "HealthChecks.Active.httpPath", "http_path");
        add(s, Disposition.ENGINE, "HealthChecks.Active.httpReqBody", "http_req_body");
        add(s, Disposition.ENGINE, "HealthChecks.Active.httpsVerifyCertificate", "https_verify_certificate");
        add(s, Disposition.ENGINE, "HealthChecks.Active.reqHeaders", "req_headers");
        add(s, Disposition.ENGINE, "HealthChecks.Active.healthy", "healthy");
        add(s, Disposition.ENGINE, "HealthChecks.Active.unhealthy", "unhealthy");

        for (String side : List.of("active", "passive")) {
            s = "upstream.checks." + side + ".healthy";
            if (side.equals("active")) {
                add(s, Disposition.ENGINE, "HealthChecks.Healthy.interval", "interval");
            }
            add(s, Disposition.ENGINE, "HealthChecks.Healthy.httpStatuses", "http_statuses");
            add(s, Disposition.ENGINE, "HealthChecks.Healthy.successes", "successes");
            s = "upstream.checks." + side + ".unhealthy";
            if (side.equals("active")) {
                add(s, Disposition.ENGINE, "HealthChecks.Unhealthy.interval", "interval");
            }
            add(s, Disposition.ENGINE, "HealthChecks.Unhealthy.httpStatuses", "http_statuses");
            add(s, Disposition.ENGINE, "HealthChecks.Unhealthy.httpFailures", "http_failures");
            add(s, Disposition.ENGINE, "HealthChecks.Unhealthy.tcpFailures", "tcp_failures");
            add(s, Disposition.ENGINE, "HealthChecks.Unhealthy.timeouts", "timeouts");
        }

        s = "upstream.checks.passive";
        add(s, Disposition.ENGINE, "HealthChecks.Passive.type", "type");
        add(s, Disposition.ENGINE, "HealthChecks.Passive.healthy", "healthy");
        add(s, Disposition.ENGINE, "HealthChecks.Passive.unhealthy", "unhealthy");

        s = "timeout";
        add(s, Disposition.ENGINE, "Timeout.connect", "connect");
        add(s, Disposition.ENGINE, "Timeout.send", "send");
        add(s, Disposition.ENGINE, "Timeout.read", "read");

        s = "upstream.nodes[]";
        add(s, Disposition.ENGINE, "UpstreamNode.host", "host");
        add(s, Disposition.ENGINE, "UpstreamNode.port", "port");
        add(s, Disposition.ENGINE, "UpstreamNode.weight", "weight");
        add(s, Disposition.ENGINE, "UpstreamNode.priority", "priority");
        add(s, Disposition.METADATA, "free-form, read by no one in APISIX's core either", "metadata");

        s = "upstream.keepalive_pool";
        add(s, Disposition.ENGINE, "KeepalivePool.size", "size");
        add(s, Disposition.ENGINE, "KeepalivePool.idleTimeout", "idle_timeout");
        add(s, Disposition.ENGINE, "KeepalivePool.requests", "requests");

        s = "upstream.tls"; // refused unless scheme is https
        add(s, Disposition.ENGINE, "Upstream.raw \"client_cert\"", "client_cert");
        add(s, Disposition.ENGINE, "Upstream.raw \"client_key\"", "client_key");
        add(s, Disposition.ENGINE, "Upstream.raw \"client_cert_id\"", "client_cert_id");
        add(s, Disposition.ENGINE, "Upstream.raw \"verify\"", "verify");
        add(s, Disposition.ENGINE, "Upstream.raw \"ca\"", "ca");

        s = "ssl";
        meta(s, "id", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.METADATA, "informational in APISIX too (the certificate's own dates are checked)",
                "validity_start", "validity_end");
        add(s, Disposition.ENGINE, "Ssl.type", "type");
        add(s, Disposition.ENGINE, "Ssl.pairs Ssl.CertKeyPair.chain Ssl.CertKeyPair.key", "cert", "key", "certs",
                "keys");
        add(s, Disposition.ENGINE, "Ssl.CertKeyPair.keyServer", "key_server");
        add(s, Disposition.ENGINE, "Ssl.snis", "sni", "snis");
        add(s, Disposition.ENGINE, "Ssl.clientCa", "client");
        add(s, Disposition.ENGINE, "Ssl.protocols", "ssl_protocols");
        add(s, Disposition.ENGINE, "Ssl.enabled", "status");
        add(s, Disposition.ENGINE, "Ssl.ocspResponse", "ocsp_response");
        add(s, Disposition.ENGINE, "Ssl.sessionTicketKeys", "session_ticket_keys");

        s = "ssl.client";
        add(s, Disposition.ENGINE, "Ssl.clientCa", "ca");
        add(s, Disposition.ENGINE, "Ssl.clientDepth", "depth");
        add(s, Disposition.REFUSED, "[\"^/health\"]", "skip_mtls_uri_regex");

        for (String holder : List.of("plugin_config", "consumer_group")) {
            meta(holder, "id", "name", "desc", "labels", "create_time", "update_time");
            add(holder, Disposition.CHECKED, PLUGINS, "plugins");
        }
        meta("global_rule", "id", "create_time", "update_time");
        add("global_rule", Disposition.CHECKED, PLUGINS, "plugins");

        s = "consumer"; // inert until an authentication plugin is registered: only its plugins matter
        meta(s, "username", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.METADATA, "read by plugins only (consumer_groups' plugins are checked)", "group_id");
        add(s, Disposition.CHECKED, PLUGINS, "plugins");
        add(s, Disposition.CHECKED, "each credential is checked as a credential", "credentials");

        s = "credential";
        meta(s, "id", "name", "desc", "labels", "create_time", "update_time");
        add(s, Disposition.CHECKED, PLUGINS, "plugins");
    }

    private FieldDispositions() {
    }

    /** Every accepted field, by scope, in declaration order. */
    public static List<Field> all() {
        return Collections.unmodifiableList(FIELDS);
    }

    /** The field set each codec accepts, by scope (the codecs' own constants). */
    public static Map<String, Set<String>> accepted() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        m.put("route", ResourceCodec.ROUTE_FIELDS);
        m.put("service", ResourceCodec.SERVICE_FIELDS);
        m.put("upstream", ResourceCodec.UPSTREAM_FIELDS);
        m.put("timeout", ResourceCodec.TIMEOUT_FIELDS);
        m.put("upstream.nodes[]", ResourceCodec.NODE_FIELDS);
        m.put("upstream.keepalive_pool", ResourceCodec.KEEPALIVE_POOL_FIELDS);
        m.put("upstream.tls", ResourceCodec.UPSTREAM_TLS_FIELDS);
        m.put("upstream.checks", HealthChecksCodec.CHECKS_FIELDS);
        m.put("upstream.checks.active", HealthChecksCodec.ACTIVE_FIELDS);
        m.put("upstream.checks.active.healthy", HealthChecksCodec.ACTIVE_HEALTHY_FIELDS);
        m.put("upstream.checks.active.unhealthy", HealthChecksCodec.ACTIVE_UNHEALTHY_FIELDS);
        m.put("upstream.checks.passive", HealthChecksCodec.PASSIVE_FIELDS);
        m.put("upstream.checks.passive.healthy", HealthChecksCodec.PASSIVE_HEALTHY_FIELDS);
        m.put("upstream.checks.passive.unhealthy", HealthChecksCodec.PASSIVE_UNHEALTHY_FIELDS);
        m.put("ssl", SslCodec.FIELDS);
        m.put("ssl.client", SslCodec.CLIENT_FIELDS);
        m.put("plugin_config", PluginResourceCodec.PLUGIN_CONFIG_FIELDS);
        m.put("consumer_group", PluginResourceCodec.CONSUMER_GROUP_FIELDS);
        m.put("global_rule", PluginResourceCodec.GLOBAL_RULE_FIELDS);
        m.put("consumer", PluginResourceCodec.CONSUMER_FIELDS);
        m.put("credential", PluginResourceCodec.CREDENTIAL_FIELDS);
        return m;
    }

    /** The names the table lists for {@code scope}. */
    public static Set<String> listed(String scope) {
        Set<String> out = new LinkedHashSet<>();
        for (Field f : FIELDS) {
            if (f.scope().equals(scope)) {
                out.add(f.name());
            }
        }
        return out;
    }
}
