package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

import static io.turnpike.engine.proxy.ProxyTestSupport.counter;
import static io.turnpike.engine.proxy.ProxyTestSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Back-pressure both ways. The gateway's own buffering is measured with its byte counters ({@code bytes_out} counts
 * response bytes when the gateway writes them toward the client, {@code bytes_in} request bytes when it reads them):
 * what it wrote minus what the client read (or read minus what the backend received) is what sits inside the gateway
 * plus kernel socket buffers. With back-pressure that stays at a few MiB however large the body; without it, it grows
 * to the whole 64 MiB body. The backend's side of the stall is observed too: its writes stop (channel unwritable,
 * flushed bytes stay put) while the client does not read.
 */
@Timeout(120)
class ProxyBackpressureIT {
    static final long BODY = 64L << 20;
    /** Kernel socket buffers the gateway does not control (send buffer toward the peer, ≤ tcp_wmem max) plus slack. */
    static final long GATEWAY_BOUND = 8L << 20;

    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;
    /** upstream_read_timeout_ms 400: shorter than the test's client pause. */
    static GatewayFixture shortRead;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend(64 * 1024); // small backend socket buffers: the stall shows quickly
        gw = GatewayFixture.start(java.nio.file.Files.createDirectories(dir.resolve("a")),
                GatewayFixture.catchAllRoute(backend.port()), "");
        shortRead = GatewayFixture.start(java.nio.file.Files.createDirectories(dir.resolve("b")),
                GatewayFixture.catchAllRoute(backend.port()), "  upstream_read_timeout_ms: 400\n");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (shortRead != null) {
            shortRead.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void slowClientStopsTheGatewayReadingFromTheUpstream() throws Exception {
        long outBefore = counter(gw, "bytes_out");
        long flushedBefore = backend.responseBytesFlushed.get();
        int stallsBefore = backend.patternStalls.get();
        try (RawHttpClient c = new RawHttpClient(gw.port, 20_000, 64 * 1024)) {
            c.send("GET /pattern?n=" + BODY + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(Long.toString(BODY), c.readHead().header("content-length"));
            byte[] b = new byte[16 * 1024];
            long got = 0;
            // Read the first MiB slowly, then stop reading altogether.
            while (got < 1 << 20) {
                int k = c.readSome(b, 0, b.length);
                assertTrue(k > 0);
                check(b, k, got);
                got += k;
                Thread.sleep(2);
            }
            // Let the stall settle (bounded): the kernel may still trickle a little as it compacts receive queues.
            long flushed = -1;
            long out = -1;
            for (int i = 0; i < 20; i++) {
                Thread.sleep(250);
                long f = backend.responseBytesFlushed.get() - flushedBefore;
                long o = counter(gw, "bytes_out") - outBefore;
                if (f - flushed < 64 * 1024 && o == out) {
                    break;
                }
                flushed = f;
                out = o;
            }
            System.out.printf("slow client: read %d, gateway wrote %d, backend flushed %d of %d%n", got, out, flushed, BODY);
            assertTrue(backend.patternStalls.get() > stallsBefore, "the backend's channel must have become unwritable");
            assertTrue(flushed < BODY / 2, "the backend could write " + flushed + " bytes to a client that does not read");
            assertTrue(out - got < GATEWAY_BOUND,
                    "gateway holds " + (out - got) + " bytes the client has not read: upstream reads did not pause");
            long stalled = backend.responseBytesFlushed.get() - flushedBefore;
            Thread.sleep(300);
            assertTrue(backend.responseBytesFlushed.get() - flushedBefore - stalled < 1 << 20,
                    "the backend's writes must stay stalled while the client does not read");
            // Now read the rest: everything arrives, intact and in order.
            while (got < BODY) {
                int k = c.readSome(b, 0, (int) Math.min(b.length, BODY - got));
                assertTrue(k > 0, "closed after " + got);
                check(b, k, got);
                got += k;
            }
            assertEquals("ok:/next", c.exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    private static void check(byte[] b, int k, long offset) {
        for (int i = 0; i < k; i++) {
            if (b[i] != TestBackend.patternByte(offset + i)) {
                throw new AssertionError("byte " + (offset + i) + " differs");
            }
        }
    }

    @Test
    void slowUpstreamStopsTheGatewayReadingFromTheClient() throws Exception {
        long inBefore = counter(gw, "bytes_in");
        long receivedBefore = backend.bodyBytesReceived.get();
        AtomicLong sent = new AtomicLong();
        AtomicReference<Throwable> sendError = new AtomicReference<>();
        CRC32 crc = new CRC32();
        byte[] piece = new byte[64 * 1024];
        for (int i = 0; i < piece.length; i++) {
            piece[i] = (byte) (i * 7);
        }
        try (RawHttpClient c = new RawHttpClient(gw.port, 30_000)) {
            Thread sender = new Thread(() -> {
                try {
                    OutputStream out = c.output();
                    out.write(("POST /pausesink HTTP/1.1\r\nHost: a\r\nContent-Length: " + BODY + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    for (long s = 0; s < BODY; s += piece.length) {
                        out.write(piece);
                        crc.update(piece);
                        sent.addAndGet(piece.length);
                    }
                    out.flush();
                } catch (Throwable t) {
                    sendError.set(t);
                }
            }, "body-sender");
            sender.start();
            try {
                assertTrue(waitFor(backend::hasPaused, 10_000), "the backend must have paused reading");
                // Wait (bounded) until the client's sends stall: all buffers on the way are full.
                long last = -1;
                for (int i = 0; i < 40; i++) {
                    Thread.sleep(250);
                    long now = sent.get();
                    if (now == last) {
                        break;
                    }
                    last = now;
                }
                long sentStalled = sent.get();
                assertTrue(sentStalled < BODY, "the client could send the whole body to a backend that does not read");
                long inGateway = counter(gw, "bytes_in") - inBefore;
                long atBackend = backend.bodyBytesReceived.get() - receivedBefore;
                assertTrue(inGateway - atBackend < GATEWAY_BOUND, "gateway read " + inGateway + " bytes but the backend"
                        + " received " + atBackend + ": client reads did not pause");
                System.out.printf("slow upstream: client sent %d, gateway read %d, backend received %d of %d%n",
                        sentStalled, inGateway, atBackend, BODY);
                assertTrue(sentStalled < BODY / 2 + (8L << 20), "client sent " + sentStalled);
                Thread.sleep(300);
                assertTrue(sent.get() - sentStalled < 1 << 20, "the client's sends must stay stalled");
            } finally {
                backend.resumePaused();
            }
            sender.join(60_000);
            assertNull(sendError.get());
            String r = c.read(false).bodyText();
            assertEquals(BODY + " " + Long.toHexString(crc.getValue()) + "\n", r);
        }
    }

    /**
     * While the gateway itself holds upstream reads off (the client is not reading), the upstream read timeout must
     * not fire: the upstream is not late, the client is slow.
     */
    @Test
    void pausedUpstreamReadsDoNotCountAsUpstreamTimeout() throws Exception {
        long n = 16L << 20;
        long timeoutsBefore = counter(shortRead, "upstream_timeout");
        try (RawHttpClient c = new RawHttpClient(shortRead.port, 20_000, 64 * 1024)) {
            c.send("GET /pattern?n=" + n + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(Long.toString(n), c.readHead().header("content-length"));
            byte[] b = new byte[64 * 1024];
            long got = 0;
            while (got < n) {
                if (got < 1 << 20 && got + b.length >= 1 << 20) {
                    Thread.sleep(1500); // well past the 400 ms read timeout, with reads paused by back-pressure
                }
                int k = c.readSome(b, 0, (int) Math.min(b.length, n - got));
                assertTrue(k > 0, "closed after " + got + " of " + n + " bytes");
                check(b, k, got);
                got += k;
            }
            assertEquals("ok:/next", c.exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        assertEquals(timeoutsBefore, counter(shortRead, "upstream_timeout"));
    }

    /** A request body that keeps arriving (gaps below the read timeout, total above it) is not an upstream timeout. */
    @Test
    void slowlyUploadedBodyDoesNotTimeOutTheUpstream() throws Exception {
        try (RawHttpClient c = new RawHttpClient(shortRead.port, 20_000)) {
            c.send("POST /digest HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
            CRC32 crc = new CRC32();
            byte[] piece = new byte[100];
            java.util.Arrays.fill(piece, (byte) 'u');
            for (int i = 0; i < 10; i++) {
                Thread.sleep(150); // 1.5 s in all, against a 400 ms read timeout
                c.send(piece);
                crc.update(piece);
            }
            assertEquals("1000 " + Long.toHexString(crc.getValue()) + "\n", c.read(false).bodyText());
        }
    }
}
