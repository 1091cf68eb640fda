package io.turnpike.config.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.model.HealthChecks;
import io.turnpike.config.model.Upstream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code checks}: APISIX 3.x's health_checker schema (defaults, bounds, wording) and Turnpike's refusals. */
class HealthChecksCodecTest {

    private final ResourceCodec codec = new ResourceCodec();

    private HealthChecks decode(String checks) {
        Decoded<Upstream> d = codec.decodeUpstream("u1",
                FailClosedTest.json("{'nodes':{'127.0.0.1:80':1},'checks':" + checks + "}"));
        assertTrue(d.ok(), () -> d.errors().toString());
        return d.value().checks();
    }

    private void refused(String checks, String field, String message) {
        refused("{'nodes':{'127.0.0.1:80':1},'checks':" + checks + "}", field, message, true);
    }

    private void refused(String upstream, String field, String message, boolean unused) {
        List<FieldError> e = codec.decodeUpstream("u1", FailClosedTest.json(upstream)).errors();
        assertEquals(List.of(new FieldError(field, message)), e);
    }

    @Test
    void noChecksIsNull() {
        Decoded<Upstream> d = codec.decodeUpstream("u1", FailClosedTest.json("{'nodes':{'127.0.0.1:80':1}}"));
        assertNull(d.value().checks());
    }

    @Test
    void activeDefaultsAreApisixs() {
        HealthChecks c = decode("{'active':{}}");
        HealthChecks.Active a = c.active();
        assertNull(c.passive());
        assertEquals("http", a.type());
        assertEquals(1.0, a.timeout());
        assertEquals(10, a.concurrency());
        assertNull(a.host());
        assertEquals(0, a.port());
        assertEquals("GET", a.httpMethod());
        assertEquals("/", a.httpPath());
        assertEquals("", a.httpReqBody());
        assertTrue(a.httpsVerifyCertificate());
        assertEquals(List.of(), a.reqHeaders());
        assertEquals(new HealthChecks.Healthy(1, List.of(200, 302), 2), a.healthy());
        assertEquals(new HealthChecks.Unhealthy(1, List.of(429, 404, 500, 501, 502, 503, 504, 505), 5, 2, 3),
                a.unhealthy());
    }

    @Test
    void passiveDefaultsAreApisixs() {
        HealthChecks.Passive p = decode("{'active':{},'passive':{}}").passive();
        assertEquals("http", p.type());
        assertEquals(new HealthChecks.Healthy(0, List.of(200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301,
                302, 303, 304, 305, 306, 307, 308), 5), p.healthy());
        assertEquals(new HealthChecks.Unhealthy(0, List.of(429, 500, 503), 5, 2, 7), p.unhealthy());
        // a partial threshold object keeps the other defaults
        p = decode("{'active':{},'passive':{'unhealthy':{'timeouts':0}}}").passive();
        assertEquals(new HealthChecks.Unhealthy(0, List.of(429, 500, 503), 5, 2, 0), p.unhealthy());
    }

    @Test
    void decodesEveryField() {
        HealthChecks c = decode("{'active':{'type':'https','timeout':0.5,'concurrency':3,'host':'api.example.com',"
                + "'port':8443,'http_method':'POST','http_path':'/healthz?x=1','http_req_body':'{}',"
                + "'https_verify_certificate':false,'req_headers':['User-Agent: probe','X-A:b'],"
                + "'healthy':{'interval':2,'http_statuses':[200],'successes':1},"
                + "'unhealthy':{'interval':3,'http_statuses':[500,503],'http_failures':2,'tcp_failures':1,'timeouts':4}},"
                + "'passive':{'type':'tcp','healthy':{'http_statuses':[200,201],'successes':0},"
                + "'unhealthy':{'http_statuses':[502],'http_failures':0,'tcp_failures':3,'timeouts':254}}}");
        assertEquals(new HealthChecks.Active("https", 0.5, 3, "api.example.com", 8443, "POST", "/healthz?x=1", "{}",
                false, List.of("User-Agent: probe", "X-A: b"), new HealthChecks.Healthy(2, List.of(200), 1),
                new HealthChecks.Unhealthy(3, List.of(500, 503), 2, 1, 4)), c.active());
        assertEquals(new HealthChecks.Passive("tcp", new HealthChecks.Healthy(0, List.of(200, 201), 0),
                new HealthChecks.Unhealthy(0, List.of(502), 0, 3, 254)), c.passive());
    }

    @Test
    void activeIsRequired() {
        refused("{'passive':{}}", "checks", "property \"checks\" validation failed: object matches none of the"
                + " required: [\"active\"] or [\"active\",\"passive\"]");
        refused("{}", "checks", "property \"checks\" validation failed: object matches none of the"
                + " required: [\"active\"] or [\"active\",\"passive\"]");
    }

    @Test
    void boundsUseApisixsWording() {
        String p = "property \"checks\" validation failed: property \"active\" validation failed: ";
        refused("{'active':{'type':'udp'}}", "checks.active.type",
                p + "property \"type\" validation failed: matches none of the enum values");
        refused("{'active':{'port':0}}", "checks.active.port",
                p + "property \"port\" validation failed: expected 0 to be at least 1");
        refused("{'active':{'port':65536}}", "checks.active.port",
                p + "property \"port\" validation failed: expected 65536 to be at most 65535");
        refused("{'active':{'healthy':{'interval':0}}}", "checks.active.healthy.interval",
                p + "property \"healthy\" validation failed: property \"interval\" validation failed: expected 0 to"
                        + " be at least 1");
        refused("{'active':{'healthy':{'successes':255}}}", "checks.active.healthy.successes",
                p + "property \"healthy\" validation failed: property \"successes\" validation failed: expected 255"
                        + " to be at most 254");
        refused("{'active':{'unhealthy':{'tcp_failures':0}}}", "checks.active.unhealthy.tcp_failures",
                p + "property \"unhealthy\" validation failed: property \"tcp_failures\" validation failed: expected"
                        + " 0 to be at least 1");
        refused("{'active':{'unhealthy':{'http_statuses':[199]}}}", "checks.active.unhealthy.http_statuses[0]",
                p + "property \"unhealthy\" validation failed: property \"http_statuses\" validation failed: failed"
                        + " to validate item 1: expected 199 to be at least 200");
        refused("{'active':{'healthy':{'http_statuses':[200,200]}}}", "checks.active.healthy.http_statuses",
                p + "property \"healthy\" validation failed: property \"http_statuses\" validation failed: expected"
                        + " unique items but items 1 and 2 are equal");
        refused("{'active':{'healthy':{'http_statuses':[]}}}", "checks.active.healthy.http_statuses",
                p + "property \"healthy\" validation failed: property \"http_statuses\" validation failed: expect"
                        + " array to have at least 1 items");
        refused("{'active':{'req_headers':[]}}", "checks.active.req_headers",
                p + "property \"req_headers\" validation failed: expect array to have at least 1 items");
        refused("{'active':{'http_method':'FETCH'}}", "checks.active.http_method",
                p + "property \"http_method\" validation failed: matches none of the enum values");
        refused("{'active':{'https_verify_certificate':'no'}}", "checks.active.https_verify_certificate",
                p + "property \"https_verify_certificate\" validation failed: wrong type: expected boolean, got"
                        + " string");
        refused("{'active':{'host':'a b'}}", "checks.active.host",
                p + "property \"host\" validation failed: failed to match pattern \"^\\\\*?[0-9a-zA-Z-._]+$\" with"
                        + " \"a b\"");
        refused("{'active':{},'passive':{'unhealthy':{'timeouts':-1}}}", "checks.passive.unhealthy.timeouts",
                "property \"checks\" validation failed: property \"passive\" validation failed: property"
                        + " \"unhealthy\" validation failed: property \"timeouts\" validation failed: expected -1 to"
                        + " be at least 0");
        refused("{'active':{},'passive':{'healthy':{'interval':1}}}", "checks.passive.healthy.interval",
                "property \"checks\" validation failed: property \"passive\" validation failed: property"
                        + " \"healthy\" validation failed: additional properties forbidden, found interval");
    }

    @Test
    void turnpikeRefusesWhatItCouldNotProbeAsWritten() {
        String p = "property \"checks\" validation failed: property \"active\" validation failed: ";
        refused("{'active':{'timeout':0}}", "checks.active.timeout",
                p + "property \"timeout\" validation failed: expected 0 to be greater than 0");
        refused("{'active':{'concurrency':0}}", "checks.active.concurrency",
                p + "property \"concurrency\" validation failed: expected 0 to be at least 1");
        refused("{'active':{'http_path':'/a b'}}", "checks.active.http_path",
                p + "property \"http_path\" validation failed: failed to match pattern \"^/[!-~]*$\" with \"/a b\"");
        refused("{'active':{'req_headers':['X-A: 1\\r\\nX-B: 2']}}", "checks.active.req_headers[0]",
                p + "property \"req_headers\" validation failed: failed to validate item 1: expected a header line"
                        + " \"Name: value\" (a token, a colon, a value without line breaks), got \"X-A: 1\\013\\n"
                        + "X-B: 2\"");
        refused("{'active':{'req_headers':['Host: a.com']}}", "checks.active.req_headers[0]",
                p + "property \"req_headers\" validation failed: failed to validate item 1: the probe sets \"Host\""
                        + " itself (from \"host\", else the node's host)");
        refused("{'active':{'type':'tcp','http_path':'/health'}}", "checks.active.http_path",
                p + "property \"http_path\" validation failed: only used with \"type\": \"http\" or \"https\", got"
                        + " \"tcp\"");
        refused("{'active':{'type':'tcp','req_headers':['X-A: 1']}}", "checks.active.req_headers",
                p + "property \"req_headers\" validation failed: only used with \"type\": \"http\" or \"https\","
                        + " got \"tcp\"");
        // APISIX's stored defaults pass with tcp probes
        assertEquals("tcp", decode("{'active':{'type':'tcp','http_path':'/','http_method':'GET'}}").active().type());
        refused("{'active':{'https_sni':'a'}}", "checks.active.https_sni",
                p + "additional properties forbidden, found https_sni");
        refused("{'nodes':{'127.0.0.1:80':1},'scheme':'https','tls':{'client_cert_id':'c1'},"
                        + "'checks':{'active':{'type':'https'}}}", "checks.active.type",
                p + "property \"type\" validation failed: \"https\" probes do not present the upstream's client"
                        + " certificate (tls.client_cert, tls.client_cert_id) yet; use \"http\" or \"tcp\" probes",
                true);
    }
}
