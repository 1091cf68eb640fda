package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.testing.Configs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy handlers on EmbeddedChannels (no network): exact forwarded bytes, fragmented input, pipelining, and the
 * relayed response. Every buffer read back is released; the channels are finished in tearDown.
 */
class EmbeddedProxyTest {
    private EmbeddedProxy proxy;

    @BeforeEach
    void setUp() {
        proxy = new EmbeddedProxy(Configs.fromYaml(""
                + "routes:\n"
                + "  - id: \"1\"\n    uri: /*\n    upstream:\n      nodes:\n        \"127.0.0.1:8080\": 1\n"),
                EngineSettings.defaults());
    }

    @AfterEach
    void tearDown() {
        proxy.close();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** Drains and releases everything written to a channel's outbound side, as one string. */
    private static String drain(io.netty.channel.embedded.EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        ByteBuf m;
        while ((m = ch.readOutbound()) != null) {
            b.append(m.toString(StandardCharsets.ISO_8859_1));
            m.release();
        }
        return b.toString();
    }

    @Test
    void forwardsHeadWithOriginalBytesAndProxyHeaders() {
        proxy.clientWrites(bytes("GET /a?b=c HTTP/1.1\r\nHost: Example.COM\r\nX-Custom:   spaced  \r\n"
                + "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nAccept: */*\r\n\r\n"));
        String up = drain(proxy.upstream());
        assertEquals("GET /a?b=c HTTP/1.1\r\nHost: Example.COM\r\nX-Custom:   spaced\r\nAccept: */*\r\n"
                + "X-Forwarded-For: unknown\r\nX-Real-IP: unknown\r\nX-Forwarded-Proto: http\r\n"
                + "X-Forwarded-Host: Example.COM\r\nX-Forwarded-Port: 0\r\n\r\n", up);
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=9\r\n\r\nhi"));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", drain(proxy.downstream()));
        assertTrue(proxy.downstream().isActive());
    }

    @Test
    void headArrivingByteByByteIsForwardedOnce() {
        String req = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
        for (int i = 0; i < req.length(); i++) {
            proxy.clientWrites(bytes(req.substring(i, i + 1)));
        }
        String up = drain(proxy.upstream());
        assertTrue(up.startsWith("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"), up);
        assertTrue(up.endsWith("\r\n\r\nhello"), up);
        proxy.upstreamWrites(bytes("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
        assertEquals("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", drain(proxy.downstream()));
    }

    @Test
    void pipelinedRequestsWaitForTheirTurn() {
        proxy.clientWrites(bytes("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"));
        String first = drain(proxy.upstream());
        assertTrue(first.startsWith("GET /1 "), first);
        assertFalse(first.contains("GET /2"), "the second request waits until the first response completes");
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", drain(proxy.downstream()));
        String second = drain(proxy.upstream());
        assertTrue(second.startsWith("GET /2 "), second);
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2", drain(proxy.downstream()));
    }

    @Test
    void chunkedBodiesPassThroughRawBothWays() {
        proxy.clientWrites(bytes("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;ext=1\r\nabc\r\n0\r\nTrailer-A: 1\r\n\r\n"));
        String up = drain(proxy.upstream());
        assertTrue(up.contains("Transfer-Encoding: chunked\r\n"), up);
        assertTrue(up.endsWith("\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer-A: 1\r\n\r\n"), up);
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
        assertEquals("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                drain(proxy.downstream()));
    }

    @Test
    void malformedRequestGets400AndClose() {
        proxy.clientWrites(bytes("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"));
        String down = drain(proxy.downstream());
        assertTrue(down.startsWith("HTTP/1.1 400 Bad Request\r\n"), down);
        assertTrue(down.contains("Connection: close\r\n"), down);
        assertTrue(down.contains("{\"error_msg\":"), down);
        assertNull(proxy.upstream().readOutbound(), "nothing forwarded");
        assertFalse(proxy.downstream().isActive());
    }

    /**
     * HeadWriter copies runs of adjacent verbatim lines with one write: whatever mix of verbatim lines, lines with
     * trailing whitespace (stripped), dropped hop-by-hop and X-Forwarded-* lines, in any order, the forwarded request
     * and the relayed response are the line-by-line result (500 random heads each way, seeded).
     */
    @Test
    void randomHeadsAreForwardedLineByLine() {
        java.util.Random r = new java.util.Random(20261208);
        String[] names = {"Accept", "User-Agent", "X-Request-Id", "Cookie", "Cache-Control", "X-A", "Authorization"};
        String[] ows = {"", "", "", " ", "\t", "  \t "};
        for (int round = 0; round < 500; round++) {
            StringBuilder req = new StringBuilder("GET /r" + round + " HTTP/1.1\r\nHost: h" + round + "\r\n");
            StringBuilder reqExpected = new StringBuilder("GET /r" + round + " HTTP/1.1\r\nHost: h" + round + "\r\n");
            StringBuilder resp = new StringBuilder("HTTP/1.1 200 OK\r\n");
            StringBuilder respExpected = new StringBuilder("HTTP/1.1 200 OK\r\n");
            int lines = r.nextInt(12);
            for (int i = 0; i < lines; i++) {
                int kind = r.nextInt(10);
                if (kind == 0) {
                    req.append("Keep-Alive: timeout=").append(i).append("\r\n"); // hop-by-hop: dropped
                    resp.append("Keep-Alive: timeout=").append(i).append("\r\n");
                } else if (kind == 1) {
                    req.append("X-Forwarded-Proto: ftp\r\n"); // replaced by the gateway's own
                    resp.append("Connection: keep-alive\r\n");
                } else {
                    String name = names[r.nextInt(names.length)];
                    String value = "v" + r.nextInt(1000) + (r.nextBoolean() ? " inner  space" : "");
                    String tail = ows[r.nextInt(ows.length)];
                    req.append(name).append(": ").append(value).append(tail).append("\r\n");
                    reqExpected.append(name).append(": ").append(value).append("\r\n");
                    resp.append(name).append(":").append(value).append(tail).append("\r\n");
                    respExpected.append(name).append(":").append(value).append("\r\n");
                }
            }
            req.append("\r\n");
            reqExpected.append("X-Forwarded-For: unknown\r\nX-Real-IP: unknown\r\nX-Forwarded-Proto: http\r\n")
                    .append("X-Forwarded-Host: h").append(round).append("\r\nX-Forwarded-Port: 0\r\n\r\n");
            resp.append("Content-Length: 2\r\n\r\nok");
            respExpected.append("Content-Length: 2\r\n\r\nok");
            proxy.clientWrites(bytes(req.toString()));
            assertEquals(reqExpected.toString(), drain(proxy.upstream()), "request of round " + round);
            proxy.upstreamWrites(bytes(resp.toString()));
            assertEquals(respExpected.toString(), drain(proxy.downstream()), "response of round " + round);
        }
    }

    /**
     * A Content-Length body of at most 1 KiB that arrived with its head leaves in the head's buffer (one outbound
     * message); a larger one, or one that arrives later, follows the head as its own message. The bytes are the same.
     */
    @Test
    void smallBodiesThatCameWithTheHeadLeaveInTheHeadsBuffer() {
        for (int len : new int[] {1, 100, UpstreamConnection.INLINE_BODY_MAX, UpstreamConnection.INLINE_BODY_MAX + 1}) {
            String body = "b".repeat(len);
            proxy.clientWrites(bytes("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"));
            drain(proxy.upstream());
            proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n" + body));
            ByteBuf first = proxy.downstream().readOutbound();
            String rest = drain(proxy.downstream());
            String all = first.toString(StandardCharsets.ISO_8859_1) + rest;
            first.release();
            assertEquals("HTTP/1.1 200 OK\r\nContent-Length: " + len + "\r\n\r\n" + body, all, "length " + len);
            assertEquals(len <= UpstreamConnection.INLINE_BODY_MAX, rest.isEmpty(),
                    "length " + len + ": one message when inlined, head then body otherwise");
        }
        // The body arrives after the head: relayed as it comes.
        proxy.clientWrites(bytes("GET /y HTTP/1.1\r\nHost: h\r\n\r\n"));
        drain(proxy.upstream());
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe"));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", drain(proxy.downstream()));
        proxy.upstreamWrites(bytes("llo"));
        assertEquals("llo", drain(proxy.downstream()));
        // A pipelined second response in the same read is not taken as part of the first.
        proxy.clientWrites(bytes("GET /z HTTP/1.1\r\nHost: h\r\n\r\n"));
        drain(proxy.upstream());
        proxy.upstreamWrites(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"));
        assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", drain(proxy.downstream()));
        assertTrue(proxy.downstream().isActive());
    }
}
