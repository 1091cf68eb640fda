package io.turnpike.engine.etcd;

import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consumers and their credentials change through the Admin API and etcd while a key-auth route serves: each change is
 * delivered incrementally (no full compile: the route table is shared, only the consumer index is rebuilt), and the
 * data plane follows every change, including credentials stored under {@code consumers/<name>/credentials/<id>}.
 */
class ConsumerChangesIT {
    static final String KEY = "edd1c9f034335f136f87ad84b625c8f1";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private HttpResponse<String> admin(int adminPort, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .header("X-API-KEY", KEY).header("Content-Type", "application/json");
        b = json == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(json));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A traditional-role gateway on etcd with the Admin API, one event loop. */
    private ProcessConfigResult config(String file, int port, int adminPort, EtcdServer etcd) throws Exception {
        Path cfg = dir.resolve(file);
        Files.writeString(cfg, ""
                + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                + "deployment:\n  role: traditional\n  role_traditional:\n    config_provider: etcd\n"
                + "  etcd:\n    host:\n      - \"" + etcd.endpoint() + "\"\n    prefix: /apisix\n    timeout: 5\n"
                + "  admin:\n    admin_key:\n      - name: admin\n        key: " + KEY + "\n        role: admin\n"
                + "    admin_listen:\n      ip: 127.0.0.1\n      port: " + adminPort + "\n"
                + "plugin_attr:\n  prometheus:\n    export_addr:\n      ip: 127.0.0.1\n      port: "
                + EtcdGatewayIT.freePort() + "\n"
                + "turnpike:\n  event_loops: 1\n  status_listen:\n    ip: 127.0.0.1\n    port: "
                + EtcdGatewayIT.freePort() + "\n");
        ProcessConfigResult pr = ProcessConfigLoader.loadExplicit(cfg);
        assertTrue(pr.ok(), pr.errors().toString());
        return pr;
    }

    private static int withKey(int port, String key) throws Exception {
        try (RawHttpClient c = new RawHttpClient(port)) {
            return c.exchange("GET /secure HTTP/1.1\r\nHost: x\r\napikey: " + key + "\r\n\r\n").status();
        }
    }

    private static void await(String what, EtcdGatewayIT.Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (check.ok()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    @Test
    void consumerAndCredentialChangesAreIncrementalAndServed() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            int port = EtcdGatewayIT.freePort();
            int adminPort = EtcdGatewayIT.freePort();
            ProcessConfigResult pr = config("config.yaml", port, adminPort, etcd);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            try (TurnpikeMain.Running running = TurnpikeMain.Running.startWithEtcd(pr.config(), quiet, quiet)) {
                await("the Admin API", () -> {
                    try {
                        return admin(adminPort, "PUT", "/apisix/admin/routes/1", "{\"uri\":\"/secure\","
                                + "\"plugins\":{\"key-auth\":{}},\"upstream\":{\"nodes\":{\"127.0.0.1:"
                                + backend.port() + "\":1}}}").statusCode() < 300;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                await("the route to be served", () -> withKey(port, "k1") == 401);

                long incrementalBefore = running.etcdSource.incrementalDeliveries();
                assertTrue(admin(adminPort, "PUT", "/apisix/admin/consumers",
                        "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}").statusCode() < 300);
                await("jack's key", () -> withKey(port, "k1") == 200);

                assertTrue(admin(adminPort, "PUT", "/apisix/admin/consumers",
                        "{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k2\"}}}").statusCode() < 300);
                await("jack's new key", () -> withKey(port, "k2") == 200);
                assertEquals(401, withKey(port, "k1"), "the replaced key no longer admits");

                assertTrue(admin(adminPort, "PUT", "/apisix/admin/consumers",
                        "{\"username\":\"jill\",\"plugins\":{}}").statusCode() < 300);
                HttpResponse<String> cred = admin(adminPort, "PUT", "/apisix/admin/consumers/jill/credentials/c1",
                        "{\"plugins\":{\"key-auth\":{\"key\":\"jill-cred\"}}}");
                assertTrue(cred.statusCode() < 300, cred.body());
                await("jill's credential", () -> withKey(port, "jill-cred") == 200);

                // A credential whose key another consumer holds: jill is left out (reported), jack keeps serving.
                assertTrue(admin(adminPort, "PUT", "/apisix/admin/consumers/jill/credentials/c2",
                        "{\"plugins\":{\"key-auth\":{\"key\":\"k2\"}}}").statusCode() < 300);
                await("the clash to take jill out", () -> withKey(port, "jill-cred") == 401);
                assertEquals(200, withKey(port, "k2"));

                // jack gone: jill no longer clashes and comes back with both credentials (k2 is now hers).
                assertTrue(admin(adminPort, "DELETE", "/apisix/admin/consumers/jack", null).statusCode() < 300);
                await("jill back after jack left", () -> withKey(port, "jill-cred") == 200);
                assertEquals(200, withKey(port, "k2"));
                assertTrue(admin(adminPort, "DELETE", "/apisix/admin/consumers/jill/credentials/c2", null)
                        .statusCode() < 300);
                await("jill's second credential gone", () -> withKey(port, "k2") == 401);
                assertEquals(200, withKey(port, "jill-cred"));

                long incremental = running.etcdSource.incrementalDeliveries() - incrementalBefore;
                assertTrue(incremental >= 7, "every consumer change was delivered incrementally: " + incremental);
                Snapshot last = running.server.publisher().latest();
                assertTrue(last.baseVersion >= 0, "the last snapshot was derived from its predecessor, not recompiled");
            }
        }
    }
    /**
     * A global rule and a plugin_config change: delivered incrementally, the routes naming the plugin_config recompiled
     * (only them), the global chain rebuilt, nothing else; the data plane serves each change.
     */
    @Test
    void globalRuleAndPluginConfigChangesAreIncrementalAndServed() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            int port = EtcdGatewayIT.freePort();
            int adminPort = EtcdGatewayIT.freePort();
            ProcessConfigResult pr = config("config2.yaml", port, adminPort, etcd);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            try (TurnpikeMain.Running running = TurnpikeMain.Running.startWithEtcd(pr.config(), quiet, quiet)) {
                String upstream = "\"upstream\":{\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}";
                await("the Admin API", () -> {
                    try {
                        return admin(adminPort, "PUT", "/apisix/admin/plugin_configs/pc1", "{\"plugins\":{"
                                + "\"response-rewrite\":{\"headers\":{\"set\":{\"X-PC\":\"one\"}}}}}").statusCode() < 300;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                assertTrue(admin(adminPort, "PUT", "/apisix/admin/routes/1", "{\"uri\":\"/pc\",\"plugin_config_id\":"
                        + "\"pc1\"," + upstream + "}").statusCode() < 300);
                assertTrue(admin(adminPort, "PUT", "/apisix/admin/routes/2", "{\"uri\":\"/plain\"," + upstream + "}")
                        .statusCode() < 300);
                await("the routes", () -> "one".equals(header(port, "/pc", "x-pc")));
                long before = running.etcdSource.incrementalDeliveries();

                assertTrue(admin(adminPort, "PUT", "/apisix/admin/plugin_configs/pc1", "{\"plugins\":{"
                        + "\"response-rewrite\":{\"headers\":{\"set\":{\"X-PC\":\"two\"}}}}}").statusCode() < 300);
                await("the plugin_config change", () -> "two".equals(header(port, "/pc", "x-pc")));
                assertTrue(running.server.publisher().latest().baseVersion >= 0, "derived, not recompiled");

                assertTrue(admin(adminPort, "PUT", "/apisix/admin/global_rules/g1", "{\"plugins\":{"
                        + "\"response-rewrite\":{\"headers\":{\"set\":{\"X-Global\":\"yes\"}}}}}").statusCode() < 300);
                await("the global rule", () -> "yes".equals(header(port, "/plain", "x-global")));
                assertTrue(running.server.publisher().latest().baseVersion >= 0, "derived, not recompiled");
                assertTrue(admin(adminPort, "DELETE", "/apisix/admin/global_rules/g1", null).statusCode() < 300);
                await("the global rule gone", () -> header(port, "/plain", "x-global") == null);

                assertTrue(running.etcdSource.incrementalDeliveries() - before >= 3,
                        "incremental deliveries: " + (running.etcdSource.incrementalDeliveries() - before));
                assertEquals("two", header(port, "/pc", "x-pc"));
            }
        }
    }

    private static String header(int port, String path, String name) throws Exception {
        try (RawHttpClient c = new RawHttpClient(port)) {
            RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
            return r.status() == 200 ? r.header(name) : "status " + r.status();
        }
    }
}
