package io.turnpike.config.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.Upstream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code discovery.dns} and {@code turnpike.dns} in config.yaml (docs/discovery.md). */
class DiscoveryConfigLoaderTest {

    @TempDir
    Path dir;

    private String file;

    private ProcessConfigResult load(String yaml) throws Exception {
        Path p = dir.resolve("config.yaml");
        file = p.toString();
        Files.writeString(p, yaml);
        return ProcessConfigLoader.load(p);
    }

    private List<String> errors(String yaml) throws Exception {
        return load(yaml).errors().stream().map(ConfigProblem::render).toList();
    }

    @Test
    void absentMeansNoDiscoveryAndTheSystemResolver() throws Exception {
        ProcessConfigResult r = load("apisix:\n  node_listen: 9080\n");
        assertTrue(r.errors().isEmpty(), r.errors().toString());
        DiscoveryConfig d = r.config().discovery();
        assertNull(d.dns());
        assertTrue(d.system().system());
        assertEquals(1_000, d.system().minTtlMs());
        assertEquals(300_000, d.system().maxTtlMs());
        Upstream u = new ResourceCodec().decodeUpstream("u", (ObjectNode) new ObjectMapper().readTree(
                "{\"service_name\":\"web.svc:80\",\"discovery_type\":\"dns\"}")).value();
        assertEquals("discovery dns is uninitialized: add discovery.dns (servers or resolv_conf) to config.yaml",
                d.problem(u));
    }

    @Test
    void serversOrderAndTuning() throws Exception {
        ProcessConfigResult r = load("""
                discovery:
                  dns:
                    servers:
                      - "127.0.0.1:8600"
                      - "10.0.0.2"
                      - "[::1]:5353"
                    order: [A, SRV]
                turnpike:
                  dns:
                    min_ttl: 2
                    max_ttl: 60
                    query_timeout_ms: 500
                    error_retry: 3
                """);
        assertTrue(r.errors().isEmpty(), r.errors().toString());
        DiscoveryConfig.Dns d = r.config().discovery().dns();
        assertNotNull(d);
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 8600), new InetSocketAddress("10.0.0.2", 53),
                new InetSocketAddress("::1", 5353)), d.servers());
        assertEquals(List.of("A", "SRV"), d.order());
        assertEquals(2_000, d.minTtlMs());
        assertEquals(60_000, d.maxTtlMs());
        assertEquals(500, d.queryTimeoutMs());
        assertEquals(3_000, d.errorRetryMs());
        assertEquals(60_000, r.config().discovery().system().maxTtlMs());
        Upstream u = new ResourceCodec().decodeUpstream("u", (ObjectNode) new ObjectMapper().readTree(
                "{\"service_name\":\"web.svc\",\"discovery_type\":\"dns\"}")).value();
        assertNull(r.config().discovery().problem(u));
        assertEquals(DiscoveryConfig.ORDER_DEFAULT, load("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n")
                .config().discovery().dns().order());
    }

    @Test
    void resolvConf() throws Exception {
        Files.writeString(dir.resolve("resolv.conf"), "nameserver 127.0.0.1\n");
        ProcessConfigResult r = load("discovery:\n  dns:\n    resolv_conf: resolv.conf\n");
        assertTrue(r.errors().isEmpty(), r.errors().toString());
        assertEquals(dir.resolve("resolv.conf"), r.config().discovery().dns().resolvConf());
        assertEquals(List.of(), r.config().discovery().dns().servers());
    }

    @Test
    void refusals() throws Exception {
        assertEquals(List.of(file(2) + "discovery.consul: discovery \"consul\" is not supported by Turnpike (only dns:"
                + " consul, consul_kv, nacos, eureka, kubernetes, tars are not implemented)"),
                errors("discovery:\n  consul:\n    servers: [\"http://127.0.0.1:8500\"]\n"));
        assertEquals(List.of(file(2) + "discovery.dns: \"servers\" or \"resolv_conf\" is required"),
                errors("discovery:\n  dns:\n    order: [A]\n"));
        assertEquals(List.of(file(2) + "discovery.dns: value should match only one schema, but matches both: set"
                + " either \"servers\" or \"resolv_conf\", not both"),
                errors("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n    resolv_conf: /etc/resolv.conf\n"));
        assertEquals(List.of(file(4) + "discovery.dns.servers[0]: expected an IP address with an optional port"
                + " (\"127.0.0.1:8600\", \"[::1]:53\"), got \"dns.example:53\""),
                errors("discovery:\n  dns:\n    servers:\n    - dns.example:53\n"));
        assertEquals(List.of(file(3) + "discovery.dns.servers: expected at least 1 server, got none"),
                errors("discovery:\n  dns:\n    servers: []\n"));
        assertEquals(List.of(file(4) + "discovery.dns.order[1]: duplicate \"A\" (items must be unique)"),
                errors("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n    order: [A, A]\n"));
        assertEquals(List.of(file(4) + "discovery.dns.order[0]: expected one of A, AAAA, CNAME, SRV, last, got"
                + " \"MX\""), errors("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n    order: [MX]\n"));
        assertEquals(List.of(file(4) + "discovery.dns.order: expected at least one of SRV, A, AAAA (\"last\" and"
                + " \"CNAME\" query nothing of their own: CNAME chains are followed by the other lookups)"),
                errors("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n    order: [last, CNAME]\n"));
        assertEquals(List.of(file(4) + "discovery.dns.enable_resolv_search_opt: unknown key (known: servers,"
                + " resolv_conf, order)"),
                errors("discovery:\n  dns:\n    servers: [\"127.0.0.1\"]\n    enable_resolv_search_opt: true\n"));
        assertEquals(List.of(file(3) + "discovery.dns.resolv_conf: file " + dir.resolve("nope.conf")
                + " does not exist or is not readable"), errors("discovery:\n  dns:\n    resolv_conf: nope.conf\n"));
        assertEquals(List.of(file(3) + "turnpike.dns: max_ttl (5) must not be below min_ttl (10)"),
                errors("turnpike:\n  dns:\n    min_ttl: 10\n    max_ttl: 5\n"));
        assertEquals(List.of(file(3) + "turnpike.dns.ttl: unknown key (known: min_ttl, max_ttl, query_timeout_ms,"
                + " error_retry)"), errors("turnpike:\n  dns:\n    ttl: 10\n"));
    }

    private String file(int line) {
        return dir.resolve("config.yaml") + ":" + line + ": ";
    }
}
