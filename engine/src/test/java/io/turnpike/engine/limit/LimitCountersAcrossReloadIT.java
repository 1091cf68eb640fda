package io.turnpike.engine.limit;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Counters follow APISIX's identity rule across real configuration reloads (the standalone file rewritten while the
 * gateway runs): a change elsewhere keeps a limit's counters, a change of the limit itself starts new ones.
 */
class LimitCountersAcrossReloadIT {
    @TempDir
    Path dir;

    static String yaml(int port, int count, String extra) {
        return "routes:\n"
                + "  - id: a\n    uri: /a\n    plugins:\n      limit-count:\n        count: " + count + "\n"
                + "        time_window: 60\n        key_type: constant\n        key: k\n"
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + port + "\": 1\n" + extra;
    }

    static String routeB(int port) {
        return "  - id: b\n    uri: /b\n    upstream:\n      nodes:\n        \"127.0.0.1:" + port + "\": 1\n";
    }

    void write(String yaml) throws Exception {
        Path tmp = dir.resolve("apisix.yaml.tmp");
        Files.writeString(tmp, yaml + "\n#END\n");
        Files.move(tmp, dir.resolve("apisix.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static int get(GatewayFixture gw, String path) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").status();
        }
    }

    static void await(GatewayFixture gw, long version) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (gw.running.server.publisher().latest().version < version) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("snapshot " + version + " not published");
            }
            Thread.sleep(20);
        }
        Thread.sleep(100); // every loop applies it
    }

    @Test
    void unrelatedChangesKeepCountersAndEditsOfTheLimitResetThem() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, yaml(backend.port(), 3, ""), "  event_loops: 2\n")) {
            assertEquals(200, get(gw, "/a"));
            assertEquals(200, get(gw, "/a"));
            long v = gw.running.server.publisher().latest().version;
            write(yaml(backend.port(), 3, routeB(backend.port())));
            await(gw, v + 1);
            assertEquals(200, get(gw, "/b"), "the new route is served");
            assertEquals(200, get(gw, "/a"), "third of three: the counter survived the reload");
            assertEquals(503, get(gw, "/a"));

            v = gw.running.server.publisher().latest().version;
            write(yaml(backend.port(), 4, routeB(backend.port())));
            await(gw, v + 1);
            for (int i = 0; i < 4; i++) {
                assertEquals(200, get(gw, "/a"), "a new limit, new counters: request " + i);
            }
            assertEquals(503, get(gw, "/a"));
        }
    }
}
