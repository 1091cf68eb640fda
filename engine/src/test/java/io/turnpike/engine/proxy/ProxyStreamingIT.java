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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bodies both ways over real sockets: chunked and Content-Length, pipelined, large and streamed, HTTP/1.0 clients. */
@Timeout(120)
class ProxyStreamingIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()), "");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    static String crcHex(byte[] b) {
        CRC32 crc = new CRC32();
        crc.update(b);
        return Long.toHexString(crc.getValue());
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void chunkedRequestWithExtensionsAndTrailersIsForwardedByteForByte() throws Exception {
        String body = "5;ext=1\r\nhello\r\n"
                + "6;name=\"quoted value\";flag\r\n world\r\n"
                + "A\r\n0123456789\r\n"
                + "0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n";
        backend.captureRaw(true);
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("POST /digest HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
            assertEquals(200, r.status());
            byte[] payload = "hello world0123456789".getBytes(StandardCharsets.US_ASCII);
            String seen = r.bodyText();
            assertTrue(seen.startsWith(payload.length + " " + crcHex(payload) + "\n"), seen);
            assertTrue(seen.contains("X-Trailer: t1\n") && seen.contains("X-Other: t2\n"), seen);
        } finally {
            backend.captureRaw(false);
        }
        byte[] raw = backend.rawCaptured();
        String rawText = new String(raw, StandardCharsets.ISO_8859_1);
        assertTrue(indexOf(raw, ("\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII)) >= 0,
                "the chunked framing (extensions, trailers) must reach the backend unchanged:\n" + rawText);
        assertTrue(rawText.contains("Transfer-Encoding: chunked\r\n"), rawText);
    }

    @Test
    void chunkedResponseIsRelayedIntact() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /chunked?chunks=50&size=1000 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("chunked", r.header("transfer-encoding"));
            assertEquals(50_000, r.body().length);
            for (int i = 0; i < 50; i++) {
                for (int j = 0; j < 1000; j++) {
                    assertEquals('a' + i % 26, r.body()[i * 1000 + j], "chunk " + i);
                }
            }
            // The connection (and its upstream connection) is reusable after a chunked response.
            assertEquals("ok:/next", c.exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void contentLengthBodiesBothWays() throws Exception {
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        try (RawHttpClient c = gw.client()) {
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " + data.length + "\r\n\r\n");
            c.send(data);
            Response r = c.read(false);
            assertEquals(200, r.status());
            assertEquals(Integer.toString(data.length), r.header("content-length"));
            assertArrayEquals(data, r.body());
        }
    }

    @Test
    void pipelinedSequenceMixingBodies() throws Exception {
        byte[] big = new byte[100_000]; // larger than the pipeline buffer limit: reads pause, then resume
        new Random(3).nextBytes(big);
        String pre = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /chunked?chunks=3&size=5 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n"
                + "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /digest HTTP/1.1\r\nHost: a\r\nContent-Length: " + big.length + "\r\n\r\n";
        String post = "GET /headers HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /last HTTP/1.1\r\nHost: a\r\n\r\n";
        byte[] preBytes = pre.getBytes(StandardCharsets.US_ASCII);
        byte[] postBytes = post.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[preBytes.length + big.length + postBytes.length];
        System.arraycopy(preBytes, 0, all, 0, preBytes.length);
        System.arraycopy(big, 0, all, preBytes.length, big.length);
        System.arraycopy(postBytes, 0, all, preBytes.length + big.length, postBytes.length);
        try (RawHttpClient c = gw.client()) {
            Thread writer = new Thread(() -> {
                try {
                    c.send(all);
                } catch (Exception e) {
                    // reported by the reads
                }
            });
            writer.start();
            assertEquals("hello", c.read(false).bodyText());
            assertEquals("aaaaabbbbbccccc", c.read(false).bodyText());
            assertEquals("abcdefg", c.read(false).bodyText());
            Response head = c.read(true);
            assertEquals(200, head.status());
            assertEquals("5", head.header("content-length")); // "ok:/h", not sent
            assertEquals(big.length + " " + crcHex(big) + "\n", c.read(false).bodyText());
            assertTrue(c.read(false).bodyText().startsWith("GET /headers HTTP/1.1\n"));
            assertEquals("ok:/last", c.read(false).bodyText());
            writer.join(10_000);
        }
    }

    @Test
    void http10ClientGetsAChunkedResponseWithoutChunkedFraming() throws Exception {
        for (String request : new String[]{"GET /chunked?chunks=4&size=7 HTTP/1.0\r\n\r\n",
                "GET /chunked?chunks=4&size=7 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"}) {
            try (RawHttpClient c = gw.client()) {
                c.send(request);
                Response head = c.readHead();
                assertEquals(200, head.status());
                assertNull(head.header("transfer-encoding"), "no Transfer-Encoding toward HTTP/1.0: " + head.headers());
                assertNull(head.header("content-length"));
                assertEquals("close", head.header("connection"));
                byte[] body = c.readUntilClose(10_000);
                assertEquals("aaaaaaabbbbbbbcccccccddddddd", new String(body, StandardCharsets.US_ASCII));
            }
        }
        // A large one, split across many reads and chunk boundaries.
        try (RawHttpClient c = gw.client()) {
            c.send("GET /chunked?chunks=300&size=1000 HTTP/1.0\r\n\r\n");
            assertEquals(200, c.readHead().status());
            byte[] body = c.readUntilClose(1_000_000);
            assertEquals(300_000, body.length);
            for (int i = 0; i < 300; i++) {
                assertEquals('a' + i % 26, body[i * 1000 + 999], "chunk " + i);
            }
        }
    }

    @Test
    void largeRequestBodyIsStreamedNotBuffered() throws Exception {
        long n = 64L << 20;
        backend.resetFirstBodyByte();
        byte[] piece = new byte[1 << 20];
        new Random(11).nextBytes(piece);
        CRC32 crc = new CRC32();
        try (RawHttpClient c = gw.client()) {
            OutputStream out = c.output();
            out.write(("POST /digest HTTP/1.1\r\nHost: a\r\nContent-Length: " + n + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(piece);
            out.flush();
            crc.update(piece);
            // If the gateway aggregated the body, nothing would reach the backend before all 64 MiB were sent.
            assertTrue(backend.awaitFirstBodyByte(10_000),
                    "the backend must see body bytes while the client has sent only 1 of 64 MiB");
            for (int i = 1; i < 64; i++) {
                out.write(piece);
                crc.update(piece);
            }
            out.flush();
            Response r = c.read(false);
            assertEquals(n + " " + Long.toHexString(crc.getValue()) + "\n", r.bodyText());
        }
    }

    @Test
    void largeResponseIsStreamedNotBuffered() throws Exception {
        long n = 64L << 20;
        long flushedBefore = backend.responseBytesFlushed.get();
        try (RawHttpClient c = gw.client()) {
            c.send("GET /pattern?n=" + n + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(Long.toString(n), c.readHead().header("content-length"));
            byte[] b = new byte[65536];
            long got = 0;
            long flushedAtFirstMiB = -1;
            while (got < n) {
                int k = c.readSome(b, 0, (int) Math.min(b.length, n - got));
                assertTrue(k > 0, "closed after " + got);
                for (int i = 0; i < k; i++) {
                    if (b[i] != TestBackend.patternByte(got + i)) {
                        throw new AssertionError("byte " + (got + i) + " differs");
                    }
                }
                got += k;
                if (flushedAtFirstMiB < 0 && got >= 1 << 20) {
                    flushedAtFirstMiB = backend.responseBytesFlushed.get() - flushedBefore;
                }
            }
            // Had the gateway buffered the response, the backend would have finished writing before the client got
            // its first MiB.
            assertTrue(flushedAtFirstMiB < n, "backend had flushed " + flushedAtFirstMiB);
            assertEquals("ok:/next", c.exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }
}
