package io.turnpike.engine.plugin;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code chash} with {@code hash_on: consumer} uses the consumer the auth plugin identified: every request of one
 * consumer goes to the same node, whatever connection it comes on, and different consumers spread over the nodes.
 */
class ConsumerHashIT {
    @TempDir
    Path dir;

    @Test
    void requestsOfAConsumerStickToOneNode() throws Exception {
        try (TestBackend a = new TestBackend(); TestBackend b = new TestBackend()) {
            StringBuilder consumers = new StringBuilder("consumers:\n");
            for (int i = 0; i < 20; i++) {
                consumers.append("  - username: c").append(i).append("\n    plugins:\n      key-auth:\n        key: k")
                        .append(i).append("\n");
            }
            String yaml = "routes:\n  - id: h\n    uri: /h/*\n    plugins:\n      key-auth: {}\n"
                    + "    upstream:\n      type: chash\n      hash_on: consumer\n      nodes:\n"
                    + "        \"127.0.0.1:" + a.port() + "\": 1\n        \"127.0.0.1:" + b.port() + "\": 1\n"
                    + consumers;
            try (GatewayFixture gw = GatewayFixture.start(dir, yaml, "  event_loops: 2\n")) {
                Set<String> spread = new HashSet<>();
                for (int i = 0; i < 20; i++) {
                    Set<String> nodes = new HashSet<>();
                    for (int r = 0; r < 5; r++) {
                        int beforeA = a.requests.get();
                        try (RawHttpClient c = gw.client()) { // a new connection each time: no stickiness by socket
                            assertEquals(200, c.exchange("GET /h/x HTTP/1.1\r\nHost: h\r\napikey: k" + i
                                    + "\r\n\r\n").status());
                        }
                        nodes.add(a.requests.get() > beforeA ? "a" : "b");
                    }
                    assertEquals(1, nodes.size(), "consumer c" + i + " went to " + nodes);
                    spread.addAll(nodes);
                }
                assertTrue(spread.size() == 2, "20 consumers over 2 nodes use both: " + spread);
            }
        }
    }
}
