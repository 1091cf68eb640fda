package io.turnpike.engine.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code timeout.send} (nginx's {@code proxy_send_timeout}): an upstream that accepts the connection and then stops
 * reading the request body fails the exchange with 504 after the send timeout, not after the (much longer) read
 * timeout.
 */
@Timeout(60)
class UpstreamSendTimeoutIT {

    @TempDir
    Path dir;

    /** Accepts connections and never reads from them (small receive buffer: the stall shows after a few KiB). */
    static final class BlackHole implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> accepted = new ArrayList<>();
        final Thread acceptor;

        BlackHole() throws IOException {
            server = new ServerSocket();
            server.setReceiveBufferSize(16 * 1024);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = server.accept();
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                    }
                } catch (IOException closed) {
                    // closed by close()
                }
            }, "black-hole");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    private static String route(int port, String timeout) {
        return ""
                + "routes:\n"
                + "  - id: \"up\"\n"
                + "    uri: /*\n"
                + "    timeout: " + timeout + "\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + port + "\": 1\n";
    }

    /** Sends a 64 MiB body from a helper thread until the gateway stops taking it (or answers and closes). */
    private static Thread pump(RawHttpClient c) {
        Thread t = new Thread(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                OutputStream out = c.output();
                for (int i = 0; i < 1024; i++) {
                    out.write(chunk);
                }
            } catch (IOException expected) {
                // the gateway closed the connection after its 504
            }
        }, "body-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void upstreamThatStopsReadingTheBodyIs504AfterTheSendTimeout() throws Exception {
        try (BlackHole hole = new BlackHole();
             GatewayFixture gw = GatewayFixture.start(Files.createDirectories(dir.resolve("g")),
                     route(hole.port(), "{connect: 2, send: 1, read: 60}"), "");
             RawHttpClient c = new RawHttpClient(gw.port, 30_000)) {
            long start = System.nanoTime();
            c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + (64L << 20) + "\r\n\r\n");
            Thread pump = pump(c);
            RawHttpClient.Response r = c.readHead();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(504, r.status(), r.statusLine());
            // 1 s send timeout + filling the socket buffers + the 100 ms sweep: far below the 60 s read timeout
            assertTrue(ms < 20_000, "504 after " + ms + " ms");
            c.close();
            pump.join(10_000);
        }
    }
}
