package io.turnpike.engine.server;

import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM drains: the gateway (a separate JVM started through the real CLI) stops accepting, finishes the request in
 * flight, closes idle keep-alive connections, and exits 0.
 */
class DrainIT {
    @TempDir
    Path dir;

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void sigtermFinishesInFlightRequestAndExitsZero() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            int port = freePort();
            int statusPort = freePort();
            Files.writeString(dir.resolve("config.yaml"), ""
                    + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                    + "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n"
                    + "turnpike:\n  event_loops: 2\n  drain_timeout_ms: 10000\n"
                    + "  status_listen:\n    ip: 127.0.0.1\n    port: " + statusPort + "\n");
            Files.writeString(dir.resolve("apisix.yaml"), ""
                    + "routes:\n  - id: \"1\"\n    uri: /*\n    upstream:\n      nodes:\n"
                    + "        \"127.0.0.1:" + backend.port() + "\": 1\n#END\n");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("--add-exports");
            cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(TurnpikeMain.class.getName());
            cmd.add("start");
            cmd.add("-c");
            cmd.add(dir.resolve("config.yaml").toString());
            // Output to a file: Process.destroy() closes the pipes, and we read the log after the exit.
            Path logFile = dir.resolve("gateway.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!Files.readString(logFile).contains("started") && System.nanoTime() < deadline && p.isAlive()) {
                    Thread.sleep(50);
                }
                assertTrue(Files.readString(logFile).contains("started"), Files.readString(logFile));

                try (RawHttpClient idle = new RawHttpClient(port);
                     RawHttpClient busy = new RawHttpClient(port)) {
                    assertEquals(200, idle.exchange("GET /a HTTP/1.1\r\nHost: x\r\n\r\n").status());
                    busy.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
                    Thread.sleep(300); // the slow request is now in flight upstream
                    p.destroy(); // SIGTERM
                    RawHttpClient.Response r = busy.read(false);
                    assertEquals(200, r.status());
                    assertEquals("slow", r.bodyText());
                    assertEquals("close", r.header("connection"), "a draining gateway closes after the response");
                    assertTrue(busy.isClosedByPeer(3000));
                    assertTrue(idle.isClosedByPeer(3000), "idle keep-alive connections are closed by the drain");
                }
                assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close(),
                        "no longer accepting");
                assertTrue(p.waitFor(15, TimeUnit.SECONDS), "gateway exits after drain");
                assertEquals(0, p.exitValue());
                String log = Files.readString(logFile);
                assertTrue(log.contains("draining") && log.contains("stopped"), log);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
