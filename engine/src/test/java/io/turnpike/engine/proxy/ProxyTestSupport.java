package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.RawHttpClient.Response;

import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Helpers shared by the proxy integration tests: status counters, JSON error checks, bounded waits. */
final class ProxyTestSupport {
    private ProxyTestSupport() {
    }

    /** The value of {@code "name": N} in the gateway's /status JSON (counters and errors). */
    static long counter(GatewayFixture gw, String name) throws IOException {
        try (RawHttpClient c = new RawHttpClient(gw.statusPort, 5000)) {
            Response r = c.exchange("GET /status HTTP/1.1\r\nHost: status\r\nConnection: close\r\n\r\n");
            assertEquals(200, r.status());
            Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\\d+)").matcher(r.bodyText());
            if (!m.find()) {
                fail("no counter " + name + " in " + r.bodyText());
            }
            return Long.parseLong(m.group(1));
        }
    }

    /** Waits (bounded) until the counter reached {@code atLeast}; counters are read racily from another thread. */
    static void awaitCounter(GatewayFixture gw, String name, long atLeast) throws Exception {
        long v = 0;
        for (int i = 0; i < 100; i++) {
            v = counter(gw, name);
            if (v >= atLeast) {
                return;
            }
            Thread.sleep(20);
        }
        fail("counter " + name + " = " + v + ", expected >= " + atLeast);
    }

    static boolean waitFor(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() - deadline < 0) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    /** A gateway-generated error: the status, a JSON content type and an {@code error_msg} body. */
    static void assertJsonError(Response r, int status) {
        assertEquals(status, r.status(), r.statusLine() + " " + r.bodyText());
        assertEquals("application/json", r.header("content-type"));
        assertTrue(r.bodyText().startsWith("{\"error_msg\":\""), r.bodyText());
    }
}
