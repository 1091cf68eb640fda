package io.turnpike.engine.ops;

import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-downtime restart: gateway A serves N keep-alive clients; gateway B starts on the same ports (SO_REUSEPORT);
 * {@code turnpike quit --pid A} drains A; the clients that A answers with {@code Connection: close} reconnect (to B).
 * Not one request may fail (refused, reset, closed before its response, non-200).
 */
class RestartUnderLoadIT {
    static final int CLIENTS = 16;

    @TempDir
    Path dir;

    @Test
    void secondProcessTakesOverWhileTheFirstDrainsWithoutAFailedRequest() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            int port = GatewayProcess.freePort();
            Path cfg = dir.resolve("config.yaml");
            Files.writeString(cfg, "apisix:\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                    + "  control:\n    port: " + GatewayProcess.freePort() + "\n"
                    + "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n"
                    + "turnpike:\n  event_loops: 2\n  drain_timeout_ms: 10000\n"
                    + "  status_listen:\n    ip: 127.0.0.1\n    port: " + GatewayProcess.freePort() + "\n");
            Files.writeString(dir.resolve("apisix.yaml"), "routes:\n  - id: \"1\"\n    uri: /*\n    upstream:\n"
                    + "      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n#END\n");
            try (GatewayProcess a = GatewayProcess.start(cfg, dir, dir.resolve("a.log"))) {
                KeepAliveLoad load = new KeepAliveLoad(port, CLIENTS);
                long beforeB;
                long afterAExit;
                try (GatewayProcess b = GatewayProcess.start(cfg, dir, dir.resolve("b.log"))) {
                    Path pidFile = dir.resolve("logs/turnpike.pid");
                    assertEquals(Long.toString(b.pid()), Files.readString(pidFile).trim(), "B owns the PID file");
                    beforeB = load.ok.get();
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
                    int rc = OpsCli.signal("quit", cfg.toString(), dir.toString(), a.pid(), ps, ps);
                    assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
                    assertFalse(a.process.isAlive());
                    assertEquals(0, a.process.exitValue(), a.log());
                    afterAExit = load.ok.get();
                    Thread.sleep(1500); // B alone
                    load.close();
                    String summary = load.summary();
                    System.out.println("restart under load (" + CLIENTS + " keep-alive clients): " + summary);
                    assertEquals(0, load.failures.get(), summary + "\nA:\n" + a.log() + "\nB:\n" + b.log());
                    assertTrue(beforeB > 0, "A served before B started: " + summary);
                    assertTrue(load.reconnects.get() > 0, "A's drain sent Connection: close: " + summary);
                    assertTrue(load.ok.get() > afterAExit, "B served after A exited: " + summary);
                    assertTrue(a.log().contains("draining"), a.log());
                    assertEquals(Long.toString(b.pid()), Files.readString(pidFile).trim(),
                            "A's exit left B's PID file");
                    assertEquals(0, OpsCli.signal("quit", cfg.toString(), dir.toString(), null, ps, ps),
                            out.toString(StandardCharsets.UTF_8));
                    assertFalse(Files.exists(pidFile));
                } finally {
                    load.close();
                }
            }
        }
    }
}
