package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.RawHttpClient.Response;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.turnpike.engine.proxy.ProxyTestSupport.assertJsonError;
import static io.turnpike.engine.proxy.ProxyTestSupport.awaitCounter;
import static io.turnpike.engine.proxy.ProxyTestSupport.counter;
import static io.turnpike.engine.proxy.ProxyTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that go away mid-exchange: no ByteBuf leaks (LeakGuard, paranoid detection), the upstream connection is
 * closed rather than pooled half-used, and the next request through the same pool works.
 */
@Timeout(120)
class ProxyDisconnectIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;
    /** A listener that never accepts, its backlog full: connects to it hang until the gateway's connect timeout. */
    static ServerSocket blackhole;
    static final List<Socket> backlogFillers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        blackhole = new ServerSocket();
        blackhole.bind(new InetSocketAddress("127.0.0.1", 0), 1);
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            try {
                s.connect(blackhole.getLocalSocketAddress(), 200);
                backlogFillers.add(s);
            } catch (Exception e) {
                s.close();
                break; // backlog full
            }
        }
        gw = GatewayFixture.start(Files.createDirectories(dir.resolve("gw")), ""
                + "routes:\n"
                + "  - id: \"hole\"\n"
                + "    uri: /hole/*\n"
                + "    timeout:\n"
                + "      connect: 0.7\n"
                + "      send: 60\n"
                + "      read: 60\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + blackhole.getLocalPort() + "\": 1\n"
                + "  - id: \"all\"\n"
                + "    uri: /*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n", "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
        for (Socket s : backlogFillers) {
            s.close();
        }
        if (blackhole != null) {
            blackhole.close();
        }
    }

    private static void abort(RawHttpClient c) throws Exception {
        c.socket().setSoLinger(true, 0); // RST, like a crashed client
        c.close();
    }

    @Test
    void clientDisconnectMidRequestBody() throws Exception {
        int closedBefore = backend.closedConnections.get();
        int completedBefore = backend.completedRequests.get();
        backend.resetFirstBodyByte();
        RawHttpClient c = gw.client();
        OutputStream out = c.output();
        out.write("POST /digest HTTP/1.1\r\nHost: a\r\nContent-Length: 10485760\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[1 << 20]);
        out.flush();
        assertTrue(backend.awaitFirstBodyByte(10_000));
        abort(c);
        assertTrue(waitFor(() -> backend.closedConnections.get() > closedBefore, 5000),
                "the gateway must close the half-used upstream connection");
        assertEquals(completedBefore, backend.completedRequests.get());
        try (RawHttpClient next = gw.client()) {
            assertEquals("3 " + Long.toHexString(crc("abc")) + "\n",
                    next.exchange("POST /digest HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc").bodyText());
        }
    }

    @Test
    void clientDisconnectMidResponseBody() throws Exception {
        int closedBefore = backend.closedConnections.get();
        RawHttpClient c = gw.client();
        c.send("GET /pattern?n=" + (32 << 20) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(200, c.readHead().status());
        byte[] b = new byte[100_000];
        int got = 0;
        while (got < b.length) {
            int k = c.readSome(b, got, b.length - got);
            assertTrue(k > 0);
            got += k;
        }
        abort(c);
        assertTrue(waitFor(() -> backend.closedConnections.get() > closedBefore, 5000),
                "the gateway must close the upstream connection whose response it stopped relaying");
        // Had that connection gone back to the pool, the rest of the 32 MiB would be read as the next response.
        for (int i = 0; i < 3; i++) {
            try (RawHttpClient next = gw.client()) {
                Response r = next.exchange("GET /pattern?n=1000 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(200, r.status());
                for (int j = 0; j < 1000; j++) {
                    assertEquals(TestBackend.patternByte(j), r.body()[j]);
                }
            }
        }
    }

    @Test
    void clientDisconnectBeforeTheResponseHead() throws Exception {
        int closedBefore = backend.closedConnections.get();
        RawHttpClient c = gw.client();
        c.send("GET /slow?ms=500 HTTP/1.1\r\nHost: a\r\n\r\n");
        Thread.sleep(100);
        abort(c);
        assertTrue(waitFor(() -> backend.closedConnections.get() > closedBefore, 5000));
        try (RawHttpClient next = gw.client()) {
            assertEquals("ok:/after", next.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    /** The route's own connect timeout (0.7 s) applies, not the process default (6 s). */
    @Test
    void upstreamConnectTimeoutIs502() throws Exception {
        long before = counter(gw, "upstream_connect_failed");
        try (RawHttpClient c = gw.client()) {
            long t0 = System.nanoTime();
            assertJsonError(c.exchange("GET /hole/x HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 3000, "the route's 0.7 s connect timeout must apply, took " + ms);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(gw, "upstream_connect_failed", before + 1);
    }

    @Test
    void clientDisconnectWhileTheGatewayIsConnecting() throws Exception {
        long before = counter(gw, "upstream_connect_failed");
        for (int i = 0; i < 3; i++) {
            RawHttpClient c = gw.client();
            c.send("POST /hole/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel");
            Thread.sleep(100);
            abort(c);
        }
        // The pending connects fail later (timeout) with nobody to answer; nothing leaks, nothing is counted twice.
        Thread.sleep(1200);
        try (RawHttpClient next = gw.client()) {
            assertEquals("ok:/after", next.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        assertTrue(counter(gw, "upstream_connect_failed") <= before + 3);
    }

    static long crc(String s) {
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        c.update(s.getBytes(StandardCharsets.US_ASCII));
        return c.getValue();
    }
}
