package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Bytes allocated per parse on the calling thread, after warm-up, must be below one. */
class ZeroAllocationTest extends CodecTestSupport {
    private static final int WARMUP = 20_000, ITERATIONS = 100_000;

    static final String HEAD = "POST /api/v1/orders/12345/items?expand=true&limit=50 HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n"
            + "Accept: application/json, text/plain, */*\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig\r\n"
            + "Content-Type: application/json\r\n"
            + "Connection: keep-alive\r\n"
            + "X-Forwarded-For: 10.0.0.1\r\n"
            + "Content-Length: 42\r\n"
            + "\r\n";

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void requestHead() {
        assertTrue(HEAD.length() > 350 && HEAD.length() < 450, "typical ~400 byte head: " + HEAD.length());
        ByteBuf b = buf(HEAD);
        RequestHeadParser p = new RequestHeadParser(8192, 65536, 100, true);
        RequestHead h = new RequestHead(100);
        long sum = 0;
        for (int i = 0; i < WARMUP; i++) sum += p.parse(b, h);
        long before = allocated();
        for (int i = 0; i < ITERATIONS; i++) sum += p.parse(b, h);
        long perOp = (allocated() - before) / ITERATIONS;
        assertEquals((long) HEAD.length() * (WARMUP + ITERATIONS), sum);
        assertTrue(perOp < 1, "bytes allocated per parse: " + perOp);
    }

    @Test
    void chunkedBody() {
        ByteBuf b = buf(BodyFramerTest.CHUNKED);
        BodyFramer f = new BodyFramer(1 << 20);
        int len = b.writerIndex();
        long sum = 0;
        for (int i = 0; i < WARMUP; i++) {
            f.startChunked();
            sum += f.consume(b, 0, 40);
            sum += f.consume(b, 40, len);
        }
        long before = allocated();
        for (int i = 0; i < ITERATIONS; i++) {
            f.startChunked();
            sum += f.consume(b, 0, 40);
            sum += f.consume(b, 40, len);
        }
        long perOp = (allocated() - before) / ITERATIONS;
        assertEquals((long) len * (WARMUP + ITERATIONS), sum);
        assertTrue(perOp < 1, "bytes allocated per body: " + perOp);
    }
}
