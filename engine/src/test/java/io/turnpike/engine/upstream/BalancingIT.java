package io.turnpike.engine.upstream;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Balancers and connect retries through the real proxy, with real backends. */
class BalancingIT {
    @TempDir
    Path dir;

    private static String route(String upstreamBody) {
        return "routes:\n  - id: r\n    uri: /*\n    upstream:\n" + upstreamBody;
    }

    private static int get(GatewayFixture gw, String path, String extraHeader) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extraHeader + "\r\n").status();
        }
    }

    @Test
    void connectFailureRetriesAnotherNode() throws Exception {
        try (TestBackend live = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(""
                     + "      nodes:\n        \"127.0.0.1:1\": 1\n        \"127.0.0.1:" + live.port() + "\": 1\n"),
                     "  event_loops: 1\n")) {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, get(gw, "/r" + i, ""), "request " + i);
            }
            assertEquals(20, live.requests.get());
            assertTrue(ProxyCounters.retries(gw) >= 5, "half the picks hit the dead node first: " + ProxyCounters.retries(gw));
        }
    }

    @Test
    void retriesZeroAnswers502() throws Exception {
        try (TestBackend live = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(""
                     + "      retries: 0\n"
                     + "      nodes:\n        \"127.0.0.1:1\": 1\n        \"127.0.0.1:" + live.port() + "\": 1\n"),
                     "  event_loops: 1\n")) {
            int bad = 0;
            for (int i = 0; i < 20; i++) {
                int s = get(gw, "/r" + i, "");
                if (s == 502) {
                    bad++;
                } else {
                    assertEquals(200, s);
                }
            }
            assertEquals(10, bad, "round robin alternates; without retries every dead pick is a 502");
        }
    }

    @Test
    void consistentHashOnHeaderKeepsAUserOnOneNode() throws Exception {
        try (TestBackend a = new TestBackend(); TestBackend b = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(""
                     + "      type: chash\n      hash_on: header\n      key: X-User\n"
                     + "      nodes:\n        \"127.0.0.1:" + a.port() + "\": 1\n        \"127.0.0.1:" + b.port() + "\": 1\n"),
                     "")) {
            int usersOnA = 0;
            for (int u = 0; u < 40; u++) {
                int beforeA = a.requests.get();
                int beforeB = b.requests.get();
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, get(gw, "/x", "X-User: user-" + u + "\r\n"));
                }
                int onA = a.requests.get() - beforeA;
                int onB = b.requests.get() - beforeB;
                assertTrue(onA == 5 && onB == 0 || onA == 0 && onB == 5, "user-" + u + " split " + onA + "/" + onB);
                usersOnA += onA == 5 ? 1 : 0;
            }
            assertTrue(usersOnA > 5 && usersOnA < 35, "40 users spread over both nodes: " + usersOnA + " on A");
        }
    }

    @Test
    void leastConnAvoidsTheBusyNode() throws Exception {
        try (TestBackend a = new TestBackend(); TestBackend b = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(""
                     + "      type: least_conn\n"
                     + "      nodes:\n        \"127.0.0.1:" + a.port() + "\": 1\n        \"127.0.0.1:" + b.port() + "\": 1\n"),
                     "  event_loops: 1\n")) {
            try (RawHttpClient slow = gw.client()) {
                slow.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
                Thread.sleep(200);
                TestBackend busy = a.requests.get() == 1 ? a : b;
                TestBackend idle = busy == a ? b : a;
                assertEquals(1, busy.requests.get());
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, get(gw, "/q", ""));
                }
                assertEquals(10, idle.requests.get(), "every request while one is in flight goes to the idle node");
                assertEquals(200, slow.read(false).status());
            }
        }
    }
}
