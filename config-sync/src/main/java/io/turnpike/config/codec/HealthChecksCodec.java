package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.HealthChecks;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes an upstream's {@code checks} as APISIX 3.x's {@code health_checker} schema ({@code apisix/schema_def.lua}:
 * fields, types, bounds, defaults, jsonschema wording), into {@link HealthChecks}. Stricter than APISIX where a value
 * could not be probed as written (fail closed, see docs/health.md): unknown fields are refused (APISIX ignores them),
 * {@code timeout} must be above 0 and {@code concurrency} at least 1 (APISIX has no bounds), {@code http_path} must
 * be an origin-form target, {@code req_headers} must be {@code "Name: value"} lines without the headers the probe
 * sets itself, HTTP-only fields are refused with {@code type: tcp} unless left at their defaults, and {@code https}
 * probes are refused on an upstream with a client certificate (not presented by probes yet).
 *
 * <p>Stateless.
 */
final class HealthChecksCodec {

    static final Set<String> CHECKS_FIELDS = Check.set("active", "passive");
    static final Set<String> ACTIVE_FIELDS = Check.set("type", "timeout", "concurrency", "host", "port", "http_method",
            "http_path", "http_req_body", "https_verify_certificate", "healthy", "unhealthy", "req_headers");
    static final Set<String> ACTIVE_HEALTHY_FIELDS = Check.set("interval", "http_statuses", "successes");
    static final Set<String> ACTIVE_UNHEALTHY_FIELDS = Check.set("interval", "http_statuses", "http_failures",
            "tcp_failures", "timeouts");
    static final Set<String> PASSIVE_FIELDS = Check.set("type", "healthy", "unhealthy");
    static final Set<String> PASSIVE_HEALTHY_FIELDS = Check.set("http_statuses", "successes");
    static final Set<String> PASSIVE_UNHEALTHY_FIELDS = Check.set("http_statuses", "http_failures", "tcp_failures",
            "timeouts");
    static final Set<String> TYPES = Check.set("http", "https", "tcp");

    static final String HTTP_PATH_PATTERN_TEXT = "^/[!-~]*$";
    private static final Pattern HTTP_PATH_PATTERN = Pattern.compile("^/[!-~]*$");
    private static final Pattern HEADER_LINE = Pattern.compile("^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \\t]*([^\\r\\n]*)$");
    /** Headers the probe writes itself. */
    private static final Set<String> PROBE_HEADERS = Set.of("host", "connection", "content-length",
            "transfer-encoding");

    private HealthChecksCodec() {
    }

    /**
     * @param c             the position of {@code checks}
     * @param clientCert    the upstream has {@code tls.client_cert} or {@code tls.client_cert_id}
     * @return null when invalid (errors added to {@code c})
     */
    static HealthChecks decode(Check c, ObjectNode checks, boolean clientCert) {
        int before = c.errors.size();
        c.noAdditional(checks, CHECKS_FIELDS);
        ObjectNode a = c.object(checks, "active");
        ObjectNode p = c.object(checks, "passive");
        if (!checks.has("active")) {
            c.fail("object matches none of the required: [\"active\"] or [\"active\",\"passive\"]");
            return null;
        }
        HealthChecks.Active active = a == null ? null : active(c.child("active"), a, clientCert);
        HealthChecks.Passive passive = p == null ? null : passive(c.child("passive"), p);
        if (c.errors.size() != before) {
            return null;
        }
        return new HealthChecks(active, passive);
    }

    private static HealthChecks.Active active(Check c, ObjectNode o, boolean clientCert) {
        HealthChecks.Active d = HealthChecks.Active.defaults();
        c.noAdditional(o, ACTIVE_FIELDS);
        String type = o.has("type") ? c.enumString(o, "type", TYPES) : d.type();
        if ("https".equals(type) && clientCert) {
            c.child("type").fail("\"https\" probes do not present the upstream's client certificate"
                    + " (tls.client_cert, tls.client_cert_id) yet; use \"http\" or \"tcp\" probes");
        }
        Double timeout = c.number(o, "timeout", null, 0.0);
        Long concurrency = c.integer(o, "concurrency", 1L, null);
        String host = null;
        if (o.has("host")) {
            String h = c.string(o, "host", 0, 0);
            if (h != null && c.child("host").matches(h, ResourceCodec.HOST_PATTERN,
                    ResourceCodec.HOST_PATTERN_TEXT)) {
                host = h;
            }
        }
        Long port = c.integer(o, "port", 1L, 65535L);
        String method = o.has("http_method") ? c.enumString(o, "http_method", ResourceCodec.METHODS) : d.httpMethod();
        String path = d.httpPath();
        if (o.has("http_path")) {
            String s = c.string(o, "http_path", 0, 0);
            path = s != null && c.child("http_path").matches(s, HTTP_PATH_PATTERN, HTTP_PATH_PATTERN_TEXT) ? s : null;
        }
        String body = o.has("http_req_body") ? c.string(o, "http_req_body", 0, 0) : d.httpReqBody();
        Boolean verify = c.bool(o, "https_verify_certificate");
        List<String> headers = List.of();
        ArrayNode ha = c.array(o, "req_headers", 1, false);
        if (ha != null) {
            headers = reqHeaders(c.child("req_headers"), ha);
        }
        if ("tcp".equals(type)) {
            // APISIX ignores them with tcp probes; refused unless left at the defaults APISIX stores
            httpOnly(c, o, "http_path", "/");
            httpOnly(c, o, "http_method", "GET");
            httpOnly(c, o, "http_req_body", "");
            if (o.has("req_headers")) {
                c.child("req_headers").fail("only used with \"type\": \"http\" or \"https\", got \"tcp\"");
            }
        }
        HealthChecks.Healthy healthy = d.healthy();
        ObjectNode ho = c.object(o, "healthy");
        if (ho != null) {
            healthy = healthy(c.child("healthy"), ho, true);
        }
        HealthChecks.Unhealthy unhealthy = d.unhealthy();
        ObjectNode uo = c.object(o, "unhealthy");
        if (uo != null) {
            unhealthy = unhealthy(c.child("unhealthy"), uo, true);
        }
        if (type == null || path == null || body == null || headers == null || healthy == null || unhealthy == null) {
            return null;
        }
        return new HealthChecks.Active(type, timeout == null ? d.timeout() : timeout,
                concurrency == null ? d.concurrency() : concurrency.intValue(), host,
                port == null ? 0 : port.intValue(), method, path, body,
                verify == null ? d.httpsVerifyCertificate() : verify, headers, healthy, unhealthy);
    }

    private static void httpOnly(Check c, ObjectNode o, String name, String defaultValue) {
        JsonNode n = o.get(name);
        if (n != null && !(n.isTextual() && n.textValue().equals(defaultValue))) {
            c.child(name).fail("only used with \"type\": \"http\" or \"https\", got \"tcp\"");
        }
    }

    private static List<String> reqHeaders(Check c, ArrayNode a) {
        List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < a.size(); i++) {
            Check ic = c.item(i);
            String s = ic.stringValue(a.get(i), 0, 0);
            if (s == null) {
                ok = false;
                continue;
            }
            var m = HEADER_LINE.matcher(s);
            if (!m.matches()) {
                ic.fail("expected a header line \"Name: value\" (a token, a colon, a value without line breaks),"
                        + " got " + Check.quote(s));
                ok = false;
                continue;
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (PROBE_HEADERS.contains(name)) {
                ic.fail("the probe sets " + Check.quote(m.group(1)) + " itself"
                        + ("host".equals(name) ? " (from \"host\", else the node's host)" : ""));
                ok = false;
                continue;
            }
            out.add(m.group(1) + ": " + m.group(2));
        }
        return ok ? out : null;
    }

    private static HealthChecks.Passive passive(Check c, ObjectNode o) {
        HealthChecks.Passive d = HealthChecks.Passive.defaults();
        c.noAdditional(o, PASSIVE_FIELDS);
        String type = o.has("type") ? c.enumString(o, "type", TYPES) : d.type();
        HealthChecks.Healthy healthy = d.healthy();
        ObjectNode ho = c.object(o, "healthy");
        if (ho != null) {
            healthy = healthy(c.child("healthy"), ho, false);
        }
        HealthChecks.Unhealthy unhealthy = d.unhealthy();
        ObjectNode uo = c.object(o, "unhealthy");
        if (uo != null) {
            unhealthy = unhealthy(c.child("unhealthy"), uo, false);
        }
        if (type == null || healthy == null || unhealthy == null) {
            return null;
        }
        return new HealthChecks.Passive(type, healthy, unhealthy);
    }

    private static HealthChecks.Healthy healthy(Check c, ObjectNode o, boolean active) {
        HealthChecks.Healthy d = active ? HealthChecks.Healthy.activeDefaults() : HealthChecks.Healthy.passiveDefaults();
        int before = c.errors.size();
        c.noAdditional(o, active ? ACTIVE_HEALTHY_FIELDS : PASSIVE_HEALTHY_FIELDS);
        Long interval = active ? c.integer(o, "interval", 1L, null) : null;
        List<Integer> statuses = statuses(c, o, d.httpStatuses());
        Long successes = c.integer(o, "successes", active ? 1L : 0L, 254L);
        if (c.errors.size() != before) {
            return null;
        }
        return new HealthChecks.Healthy(interval == null ? d.interval() : interval.intValue(), statuses,
                successes == null ? d.successes() : successes.intValue());
    }

    private static HealthChecks.Unhealthy unhealthy(Check c, ObjectNode o, boolean active) {
        HealthChecks.Unhealthy d = active ? HealthChecks.Unhealthy.activeDefaults()
                : HealthChecks.Unhealthy.passiveDefaults();
        int before = c.errors.size();
        c.noAdditional(o, active ? ACTIVE_UNHEALTHY_FIELDS : PASSIVE_UNHEALTHY_FIELDS);
        long min = active ? 1L : 0L;
        Long interval = active ? c.integer(o, "interval", 1L, null) : null;
        List<Integer> statuses = statuses(c, o, d.httpStatuses());
        Long http = c.integer(o, "http_failures", min, 254L);
        Long tcp = c.integer(o, "tcp_failures", min, 254L);
        Long timeouts = c.integer(o, "timeouts", min, 254L);
        if (c.errors.size() != before) {
            return null;
        }
        return new HealthChecks.Unhealthy(interval == null ? d.interval() : interval.intValue(), statuses,
                http == null ? d.httpFailures() : http.intValue(), tcp == null ? d.tcpFailures() : tcp.intValue(),
                timeouts == null ? d.timeouts() : timeouts.intValue());
    }

    /** {@code http_statuses}: 1+ unique integers in 200..599. */
    private static List<Integer> statuses(Check c, ObjectNode o, List<Integer> defaults) {
        if (!o.has("http_statuses")) {
            return defaults;
        }
        ArrayNode a = c.array(o, "http_statuses", 1, true);
        if (a == null) {
            return null;
        }
        Check sc = c.child("http_statuses");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            Long v = sc.item(i).integerValue(a.get(i), 200L, 599L);
            if (v != null) {
                out.add(v.intValue());
            }
        }
        return out.size() == a.size() ? out : null;
    }
}
