package io.turnpike.config.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessConfigLoaderTest {

    @TempDir
    Path dir;

    private ProcessConfigResult load(String yaml) throws Exception {
        Path p = dir.resolve("config.yaml");
        Files.writeString(p, yaml);
        return ProcessConfigLoader.load(p);
    }

    private static List<String> render(List<ConfigProblem> problems) {
        return problems.stream().map(ConfigProblem::render).toList();
    }

    @Test
    void defaultsWhenDefaultFileIsMissing() {
        Path p = dir.resolve("config.yaml");
        ProcessConfigResult r = ProcessConfigLoader.load(p);
        assertTrue(r.ok());
        assertEquals(List.of(), r.warnings());
        ProcessConfig c = r.config();
        assertEquals(List.of(new ListenAddress("0.0.0.0", 9080)), c.nodeListen());
        assertEquals("traditional", c.role());
        assertEquals("etcd", c.configProvider());
        assertFalse(c.standalone());
        assertEquals(List.of("http://127.0.0.1:2379"), c.etcd().hosts());
        assertEquals("/apisix", c.etcd().prefix());
        assertEquals(30, c.etcd().timeoutSeconds());
        assertEquals(new ListenAddress("0.0.0.0", 9180), c.admin().adminListen());
        assertEquals(new ListenAddress("127.0.0.1", 9091), c.prometheusExportAddr());
        assertEquals(List.of(new SslListen("0.0.0.0", 9443, null)), c.ssl().listen());
        TurnpikeSettings t = c.turnpike();
        assertEquals(TurnpikeSettings.defaults(p), t);
        assertEquals(dir.resolve("apisix.yaml"), t.standaloneFile());
        assertEquals(8192, t.maxRequestLineBytes());
        assertEquals(104_857_600L, t.maxBodyBytes());
        assertEquals(6000, t.upstreamConnectTimeoutMs());
        assertEquals(320, t.upstreamPoolSize());
        assertEquals(new ListenAddress("127.0.0.1", 7085), t.statusListen());
        assertEquals("auto", t.transport());
        assertFalse(t.accessLog());
    }

    @Test
    void explicitMissingFileIsAnError() {
        Path p = dir.resolve("nope.yaml");
        ProcessConfigResult r = ProcessConfigLoader.loadExplicit(p);
        assertEquals(List.of(p + ": file not found"), render(r.errors()));
    }

    @Test
    void nodeListenForms() throws Exception {
        assertEquals(List.of(new ListenAddress("0.0.0.0", 8080)),
                load("apisix:\n  node_listen: 8080\n").config().nodeListen());
        assertEquals(List.of(new ListenAddress("0.0.0.0", 1), new ListenAddress("0.0.0.0", 2)),
                load("apisix:\n  node_listen: [1, 2]\n").config().nodeListen());
        ProcessConfigResult r = load("apisix:\n  node_listen:\n    - ip: 127.0.0.2\n      port: 80\n    - port: 81\n"
                + "    - ip: \"::1\"\n      port: 82\n      enable_http2: true\n");
        assertEquals(List.of(new ListenAddress("127.0.0.2", 80), new ListenAddress("0.0.0.0", 81),
                new ListenAddress("::1", 82, true)), r.config().nodeListen());
        assertEquals(List.of(), render(r.warnings()));
        assertEquals(List.of(), render(r.errors()));
    }

    @Test
    void http2OnTheHttpsListeners() throws Exception {
        // apisix.enable_http2 (APISIX 3.9+) applies to every HTTPS listener; off by default
        assertFalse(load("apisix:\n  ssl:\n    listen: [9443]\n").config().ssl().http2());
        assertTrue(load("apisix:\n  enable_http2: true\n  ssl:\n    listen: [9443, 9444]\n").config().ssl().http2());
        // the older per-listener form, the same on each
        assertTrue(load("apisix:\n  ssl:\n    listen:\n      - port: 9443\n        enable_http2: true\n")
                .config().ssl().http2());
        // listeners share the certificates' TLS contexts (and so ALPN): they may not disagree
        ProcessConfigResult r = load("apisix:\n  enable_http2: true\n  ssl:\n    listen:\n      - port: 9443\n"
                + "      - port: 9444\n        enable_http2: false\n");
        assertEquals(1, r.errors().size(), render(r.errors()).toString());
        assertTrue(render(r.errors()).get(0).contains("apisix.ssl.listen[1].enable_http2: every HTTPS listener must"
                + " have the same enable_http2"), render(r.errors()).toString());
        // enable_http2 is a node_listen item's and an ssl listener's key only: the Admin API listener has none
        ProcessConfigResult admin = load("deployment:\n  admin:\n    admin_listen:\n      ip: 127.0.0.1\n"
                + "      port: 9180\n      enable_http2: true\n");
        assertEquals(1, admin.warnings().size() + admin.errors().size(), render(admin.warnings()).toString());
    }

    @Test
    void wrongTypesAreErrorsWithLines() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("""
                apisix:
                  node_listen:
                    - 9080
                    - abc
                    - 70000
                  ssl:
                    enable: maybe
                deployment:
                  role: edge
                  etcd:
                    host: [127.0.0.1:2379]
                    timeout: -1
                  admin:
                    allow_admin: [10.0.0.0/40]
                    admin_listen: {ip: 1.2.3.4, port: x}
                turnpike:
                  max_body_bytes: lots
                  status_listen: 7085
                """);
        assertEquals(List.of(
                f + ":4: apisix.node_listen[1]: expected a port number 1..65535, got \"abc\"",
                f + ":5: apisix.node_listen[2]: expected a port number 1..65535, got 70000",
                f + ":7: apisix.ssl.enable: expected true or false, got \"maybe\"",
                f + ":9: deployment.role: expected one of control_plane, data_plane, traditional, got \"edge\"",
                f + ":11: deployment.etcd.host[0]: expected an http:// or https:// URL, got \"127.0.0.1:2379\"",
                f + ":12: deployment.etcd.timeout: expected an integer >= 1, got -1",
                f + ":14: deployment.admin.allow_admin[0]: expected an IP or CIDR, got \"10.0.0.0/40\"",
                f + ":15: deployment.admin.admin_listen.port: expected a port number 1..65535, got \"x\"",
                f + ":17: turnpike.max_body_bytes: expected an integer, got \"lots\"",
                f + ":18: turnpike.status_listen: expected a mapping with ip and port, got 7085"), render(r.errors()));
        assertEquals(List.of(new ListenAddress("0.0.0.0", 9080)), r.config().nodeListen());
        assertEquals(TurnpikeSettings.MAX_BODY_BYTES_DEFAULT, r.config().turnpike().maxBodyBytes());
    }

    @Test
    void controlPlaneRoleServesTheAdminApiOverEtcdOnly() throws Exception {
        ProcessConfigResult ok = load("""
                deployment:
                  role: control_plane
                  role_control_plane:
                    config_provider: etcd
                  etcd:
                    host: ["http://127.0.0.1:2379"]
                """);
        assertTrue(ok.ok(), ok.errors().toString());
        assertTrue(ok.config().controlPlaneOnly());
        assertEquals("etcd", ok.config().configProvider());

        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult yaml = load("""
                deployment:
                  role: control_plane
                  role_control_plane:
                    config_provider: yaml
                """);
        assertTrue(render(yaml.errors()).get(0).startsWith(f + ":4: deployment.role_control_plane.config_provider"),
                render(yaml.errors()).toString());

        ProcessConfigResult noAdmin = load("""
                apisix:
                  enable_admin: false
                deployment:
                  role: control_plane
                """);
        assertEquals(List.of(f + ":4: deployment.role: role control_plane serves the Admin API only, but"
                + " apisix.enable_admin is false"), render(noAdmin.errors()));
    }

    @Test
    void keysThatMayNotBeIgnoredAreRefused() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("""
                apisix:
                  node_listen: 9080
                  proxy_protocol:
                    listen_http_port: 9181
                  allow_admin: [127.0.0.0/24]
                  enable_http2: true
                  ssl:
                    ssl_protocols: TLSv1.3
                deployment:
                  admin:
                    https_admin: true
                plugin_attr:
                  prometheus:
                    expire: 60
                """);
        assertEquals(List.of(
                f + ":4: apisix.proxy_protocol: not supported yet (PROXY protocol is not implemented)",
                f + ":5: apisix.allow_admin: APISIX 2.x layout: use deployment.admin.allow_admin",
                f + ":8: apisix.ssl.ssl_protocols: not supported yet: set ssl_protocols per certificate (ssls); the"
                        + " default is TLSv1.2 and TLSv1.3",
                f + ":11: deployment.admin.https_admin: not supported yet (the Admin API is served over plain HTTP"
                        + " only)",
                f + ":14: plugin_attr.prometheus.expire: not supported yet (series of deleted routes expire after the"
                        + " next scrape; docs/metrics.md)"), render(r.errors()));
        assertEquals(List.of(), render(r.warnings()), "apisix.enable_http2 is supported (docs/http2.md)");
    }

    @Test
    void prometheusAttributes() throws Exception {
        ProcessConfig c = load("""
                plugin_attr:
                  prometheus:
                    export_addr: {ip: 0.0.0.0, port: 9092}
                    export_uri: /metrics
                    metric_prefix: gw_
                    default_buckets: [5, 50.5, 500]
                    latency_labels: [route, node]
                    max_series: 100
                """).config();
        assertEquals(new PrometheusAttr(true, new ListenAddress("0.0.0.0", 9092), "/metrics", "gw_",
                List.of(5d, 50.5, 500d), java.util.Set.of("route", "node"), 100), c.prometheus());
        assertEquals(PrometheusAttr.DEFAULT, load("apisix: {}\n").config().prometheus());
        assertFalse(load("plugin_attr:\n  prometheus:\n    enable_export_server: false\n").config().prometheus()
                .exportServer());
    }

    @Test
    void badPrometheusAttributesAreRefused() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("""
                plugin_attr:
                  prometheus:
                    export_uri: metrics
                    metric_prefix: "1bad"
                    default_buckets: [10, 5]
                    latency_labels: [route, code]
                    max_series: 1
                    metrics:
                      http_status:
                        extra_labels:
                          - upstream_addr: $upstream_addr
                    prefer_name: true
                    refresh_interval: 15
                    export_port: 1
                """);
        List<String> e = render(r.errors());
        for (String expected : List.of(
                f + ":3: plugin_attr.prometheus.export_uri: expected a path starting with /, got \"metrics\"",
                f + ":4: plugin_attr.prometheus.metric_prefix: expected a Prometheus metric name prefix"
                        + " ([a-zA-Z_:][a-zA-Z0-9_:]*), got \"1bad\"",
                f + ":5: plugin_attr.prometheus.default_buckets[1]: buckets must increase, got 5 after 10.0",
                f + ":6: plugin_attr.prometheus.latency_labels[1]: expected one of consumer, node, route, service,"
                        + " got \"code\"",
                f + ":7: plugin_attr.prometheus.max_series: expected an integer 16..1000000, got 1",
                f + ":9: plugin_attr.prometheus.metrics: not supported yet (extra_labels and expire per metric are"
                        + " not implemented; see latency_labels and max_series in docs/metrics.md)",
                f + ":12: plugin_attr.prometheus.prefer_name: set prefer_name in the prometheus plugin's"
                        + " configuration (a route's or a global rule's plugins), not in plugin_attr",
                f + ":13: plugin_attr.prometheus.refresh_interval: not supported yet (metrics are merged at each"
                        + " scrape)")) {
            assertTrue(e.contains(expected), expected + " in " + e);
        }
        assertTrue(e.stream().anyMatch(s -> s.startsWith(f + ":14: plugin_attr.prometheus.export_port: unknown key")),
                e.toString());
    }

    @Test
    void etcdTlsKeysAreChecked() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("""
                deployment:
                  etcd:
                    tls:
                      cert: /etc/c.pem
                      trusted_ca: /etc/ca.pem
                """);
        assertEquals(List.of(f + ":4: deployment.etcd.tls.trusted_ca: unknown key (known: cert, key, verify, sni)",
                f + ":4: deployment.etcd.tls: \"cert\" and \"key\" must be set together"), render(r.errors()));
    }

    @Test
    void unknownKeys() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("""
                apisix:
                  node_listen: 9080
                  router:
                    http: radixtree_host_uri
                  colour: blue
                nginx_config:
                  worker_processes: auto
                plugins: [key-auth]
                whatever: 1
                turnpike:
                  event_loop: 4
                """);
        assertEquals(List.of(f + ":11: turnpike.event_loop: unknown key (known: event_loops, transport,"
                + " max_request_line_bytes, max_header_bytes, max_headers, max_body_bytes, header_timeout_ms,"
                + " keepalive_timeout_ms, upstream_connect_timeout_ms, upstream_send_timeout_ms,"
                + " upstream_read_timeout_ms, upstream_idle_timeout_ms, drain_timeout_ms, upstream_pool_size,"
                + " upstream_max_requests, status_listen, standalone_file, access_log, keyless, dns, max_connections_per_loop,"
                + " pipeline_buffer_bytes, pid_file)"), render(r.errors()));
        assertEquals(List.of(
                f + ":3: apisix.router: not supported by Turnpike, ignored",
                f + ":5: apisix.colour: unknown key, ignored",
                f + ":7: nginx_config.worker_processes: not supported by Turnpike, ignored",
                f + ":8: plugins: not supported by Turnpike, ignored",
                f + ":9: whatever: unknown key, ignored"), render(r.warnings()));
    }

    @Test
    void everyKnownKey() throws Exception {
        ProcessConfigResult r = load("""
                apisix:
                  node_listen: [9080]
                  enable_admin: false
                  ssl:
                    enable: true
                    listen:
                      - port: 9443
                      - ip: 127.0.0.1
                        port: 8443
                        fallback_sni: Other.com
                    fallback_sni: example.com
                deployment:
                  role: data_plane
                  role_data_plane:
                    config_provider: json
                  etcd:
                    host: ["http://10.0.0.1:2379", "https://10.0.0.2:2379"]
                    prefix: /gw/
                    timeout: 5
                    user: root
                    password: secret
                    tls:
                      verify: false
                  admin:
                    admin_key:
                      - name: admin
                        key: abc
                        role: admin
                      - name: viewer
                        key: def
                        role: viewer
                    admin_listen:
                      ip: 127.0.0.1
                      port: 19180
                    allow_admin: [127.0.0.0/24, "::1"]
                turnpike:
                  event_loops: 4
                  transport: nio
                  max_request_line_bytes: 4096
                  max_header_bytes: 32768
                  max_headers: 50
                  max_body_bytes: 0
                  header_timeout_ms: 1000
                  keepalive_timeout_ms: 2000
                  upstream_connect_timeout_ms: 3000
                  upstream_send_timeout_ms: 4000
                  upstream_read_timeout_ms: 5000
                  upstream_pool_size: 16
                  upstream_idle_timeout_ms: 6000
                  upstream_max_requests: 100
                  drain_timeout_ms: 7000
                  status_listen: {ip: 0.0.0.0, port: 7086}
                  standalone_file: /etc/turnpike/apisix.yaml
                  access_log: false
                """);
        assertEquals(List.of(), r.errors());
        assertEquals(List.of(), r.warnings());
        ProcessConfig c = r.config();
        assertEquals("data_plane", c.role());
        assertEquals("json", c.configProvider());
        assertTrue(c.standalone());
        assertEquals(new SslConfig(true, List.of(new SslListen("0.0.0.0", 9443, null),
                new SslListen("127.0.0.1", 8443, "other.com")), "example.com"), c.ssl());
        assertEquals(List.of("http://10.0.0.1:2379", "https://10.0.0.2:2379"), c.etcd().hosts());
        assertEquals("/gw", c.etcd().prefix());
        assertEquals(5, c.etcd().timeoutSeconds());
        assertEquals("root", c.etcd().user());
        assertEquals("secret", c.etcd().password());
        assertFalse(c.etcd().tls().get("verify").booleanValue());
        assertFalse(c.admin().enabled());
        assertEquals(List.of(new AdminKey("admin", "abc", "admin"), new AdminKey("viewer", "def", "viewer")),
                c.admin().adminKeys());
        assertEquals(new ListenAddress("127.0.0.1", 19180), c.admin().adminListen());
        assertEquals(List.of("127.0.0.0/24", "::1"), c.admin().allowAdmin());
        assertEquals(new ListenAddress("127.0.0.1", 9091), c.prometheusExportAddr());
        assertEquals(new TurnpikeSettings(4, "nio", 4096, 32768, 50, 0, 1000, 2000, 3000, 4000, 5000, 16, 6000, 100,
                7000, new ListenAddress("0.0.0.0", 7086), Path.of("/etc/turnpike/apisix.yaml"), false, Map.of(),
                10620, 65536, AccessLogConfig.off(dir.resolve("config.yaml"))), c.turnpike());
    }

    @Test
    void relativeStandaloneFileAndApisixStatus() throws Exception {
        ProcessConfig c = load("apisix:\n  status:\n    ip: 127.0.0.9\n    port: 7000\nturnpike:\n"
                + "  standalone_file: sub/routes.yaml\n").config();
        assertEquals(dir.resolve("sub/routes.yaml"), c.turnpike().standaloneFile());
        assertEquals(new ListenAddress("127.0.0.9", 7000), c.turnpike().statusListen());
    }

    @Test
    void syntaxErrorAndEmptyFile() throws Exception {
        ProcessConfigResult r = load("apisix:\n  node_listen: [9080\n");
        assertFalse(r.ok());
        assertTrue(r.errors().get(0).line() > 0);
        assertTrue(r.errors().get(0).message().startsWith("YAML syntax error"));
        ProcessConfigResult empty = load("# nothing\n");
        assertTrue(empty.ok());
        assertEquals(List.of(), empty.warnings());
    }

    @Test
    void shippedConfigYamlLoads() {
        Path conf = Path.of(System.getProperty("user.dir")).getParent().resolve("conf/config.yaml");
        ProcessConfigResult r = ProcessConfigLoader.loadExplicit(conf);
        assertEquals(List.of(), r.errors());
        assertEquals(List.of(), r.warnings());
        ProcessConfig c = r.config();
        assertEquals(List.of(new ListenAddress("0.0.0.0", 9080)), c.nodeListen());
        assertEquals("data_plane", c.role());
        assertEquals("yaml", c.configProvider());
        assertEquals(conf.getParent().resolve("apisix.yaml"), c.turnpike().standaloneFile());
        assertTrue(Files.exists(c.turnpike().standaloneFile()));
    }

    @Test
    void keylessKeyServers() throws Exception {
        Files.createDirectories(dir.resolve("pki"));
        for (String f : List.of("gw.crt", "gw.key", "ca.crt")) {
            Files.writeString(dir.resolve("pki").resolve(f), "pem");
        }
        ProcessConfigResult r = load("turnpike:\n  keyless:\n    ks1:\n      address: 10.0.0.5:9300\n"
                + "      cert: pki/gw.crt\n      key: pki/gw.key\n      ca: " + dir.resolve("pki/ca.crt") + "\n"
                + "      server_name: KeyServer.internal\n    ks-2:\n      address: \"[::1]:9301\"\n"
                + "      cert: pki/gw.crt\n      key: pki/gw.key\n      ca: pki/ca.crt\n");
        assertTrue(r.ok(), render(r.errors()).toString());
        var k = r.config().turnpike().keyless();
        assertEquals(List.of("ks1", "ks-2"), List.copyOf(k.keySet()));
        assertEquals(new KeyServerConfig("ks1", "10.0.0.5", 9300, dir.resolve("pki/gw.crt"), dir.resolve("pki/gw.key"),
                dir.resolve("pki/ca.crt"), "keyserver.internal"), k.get("ks1"));
        assertEquals(new KeyServerConfig("ks-2", "::1", 9301, dir.resolve("pki/gw.crt"), dir.resolve("pki/gw.key"),
                dir.resolve("pki/ca.crt"), null), k.get("ks-2"));
        assertEquals(Map.of(), TurnpikeSettings.defaults(null).keyless());
    }

    @Test
    void keylessErrors() throws Exception {
        Files.writeString(dir.resolve("gw.crt"), "pem");
        ProcessConfigResult r = load("turnpike:\n  keyless:\n    ks1:\n      address: nohost\n"
                + "      cert: gw.crt\n      key: missing.key\n      port: 1\n    ks2:\n      address: a:1\n"
                + "      cert: gw.crt\n      key: gw.crt\n");
        assertFalse(r.ok());
        List<String> errors = render(r.errors());
        String all = String.join("\n", errors);
        assertTrue(all.contains("turnpike.keyless.ks1.port: unknown key"), all);
        assertTrue(all.contains("turnpike.keyless.ks1.address: expected host:port, got \"nohost\""), all);
        assertTrue(all.contains("turnpike.keyless.ks1.key: file " + dir.resolve("missing.key")), all);
        assertTrue(all.contains("turnpike.keyless.ks1: \"ca\" is required"), all);
        assertTrue(all.contains("turnpike.keyless.ks2: \"ca\" is required"), all);
        assertTrue(r.config().turnpike().keyless().isEmpty());
        ProcessConfigResult notMap = load("turnpike:\n  keyless: [a]\n");
        assertFalse(notMap.ok());
        assertTrue(render(notMap.errors()).get(0).contains("turnpike.keyless: expected a mapping"),
                render(notMap.errors()).toString());
    }
}
