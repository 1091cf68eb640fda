package io.turnpike.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponseFramerTest {

    private static ByteBuffer buf(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void framesAContentLengthResponseAndStopsAtItsEnd() {
        String one = "HTTP/1.1 200 OK\r\nServer: nginx\r\ncontent-LENGTH:  12 \r\n\r\nhello world!";
        ByteBuffer b = buf(one + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        ResponseFramer f = new ResponseFramer();
        assertEquals(one.length(), f.parse(b));
        assertEquals(200, f.status);
        assertFalse(f.close);
        assertEquals(one.length(), b.position());
        f.reset();
        assertEquals(b.limit() - one.length(), f.parse(b));
        assertEquals(404, f.status);
        assertEquals(b.limit(), b.position());
    }

    @Test
    void everyPrefixOfAResponseNeedsMoreAndConsumesNothing() {
        String[] responses = {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;ext=\"a\"\r\nabcde\r\nA\r\n0123456789\r\n"
                    + "0\r\nX-Trailer: 1\r\n\r\n",
        };
        for (String r : responses) {
            for (int n = 0; n < r.length(); n++) {
                ByteBuffer b = buf(r.substring(0, n));
                assertEquals(-1, new ResponseFramer().parse(b), "prefix of " + n + " bytes of " + r);
                assertEquals(0, b.position());
            }
            ByteBuffer b = buf(r);
            assertEquals(r.length(), new ResponseFramer().parse(b));
        }
    }

    @Test
    void chunkedBodiesEndAfterTheirTrailers() {
        String r = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nA: b\r\nC: d\r\n\r\n";
        ByteBuffer b = buf(r + "HTTP/1.1 200 OK");
        ResponseFramer f = new ResponseFramer();
        assertEquals(r.length(), f.parse(b));
        assertEquals(200, f.status);
    }

    @Test
    void connectionHeaderAndHttp10DecideWhetherTheConnectionEnds() {
        assertClose(true, "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n");
        assertClose(false, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assertClose(true, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertClose(false, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
        assertClose(false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }

    private static void assertClose(boolean close, String r) {
        ResponseFramer f = new ResponseFramer();
        assertEquals(r.length(), f.parse(buf(r)));
        assertEquals(close, f.close, r);
    }

    @Test
    void responsesWithoutABodyNeedNoFraming() {
        for (String r : new String[] {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n"}) {
            ResponseFramer f = new ResponseFramer();
            assertEquals(r.length(), f.parse(buf(r)), r);
        }
    }

    @Test
    void malformedResponsesAreRefused() {
        for (String r : new String[] {"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", "HTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
            assertThrows(IllegalStateException.class, () -> new ResponseFramer().parse(buf(r)), r);
        }
    }

    @Test
    void framingAllocatesNothing() {
        ByteBuffer b = buf("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 20:00:00 GMT\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nhello world!");
        ResponseFramer f = new ResponseFramer();
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        int total = 0;
        for (int i = 0; i < 20_000; i++) { // warm-up (and the JIT's own first compilations)
            b.position(0);
            total += f.parse(b);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            b.position(0);
            total += f.parse(b);
            f.reset();
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(total > 0);
        assertTrue(allocated < 10_000, allocated + " bytes allocated over 100,000 responses");
    }
}
