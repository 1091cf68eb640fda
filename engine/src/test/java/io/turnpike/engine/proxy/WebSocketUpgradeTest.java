package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which requests are WebSocket upgrades the gateway forwards ({@link Exchange#isWebSocketUpgrade}). */
class WebSocketUpgradeTest {

    private static boolean upgrade(String request) {
        ByteBuf buf = Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII);
        try {
            RequestHead head = new RequestHead(64);
            int n = new RequestHeadParser(8192, 16384, 64, true).parse(buf, head);
            assertTrue(n > 0, "parsed: " + request);
            boolean complete = !head.chunked && head.contentLength <= 0;
            return Exchange.isWebSocketUpgrade(buf, head, complete);
        } finally {
            buf.release();
        }
    }

    @Test
    void tokensAreCaseInsensitiveAndMayBeListed() {
        assertTrue(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
        assertTrue(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\n\r\n"));
        assertTrue(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, websocket\r\nConnection: upgrade\r\n\r\n"));
        assertTrue(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nUpgrade: websocket\r\n"
                + "Connection: upgrade\r\n\r\n"));
    }

    @Test
    void anythingElseIsAPlainRequest() {
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"), "no Connection: upgrade");
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n"), "no Upgrade");
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"), "not ws");
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: websockets\r\nConnection: upgrade\r\n\r\n"));
        assertFalse(upgrade("GET /a HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
                "HTTP/1.0 (RFC 9110 7.8)");
        assertFalse(upgrade("POST /a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"));
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nUpgrade: websocket\r\n"
                + "Connection: upgrade\r\n\r\nab"), "a body");
        assertFalse(upgrade("GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nUpgrade: websocket\r\n"
                + "Connection: upgrade\r\n\r\n"), "a chunked body");
    }

    @Test
    void forwardedHeadKeepsUpgradeAndSaysConnectionUpgrade() {
        String req = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        ByteBuf buf = Unpooled.copiedBuffer(req, StandardCharsets.US_ASCII);
        ByteBuf out = Unpooled.buffer();
        try {
            RequestHead head = new RequestHead(64);
            assertTrue(new RequestHeadParser(8192, 16384, 64, true).parse(buf, head) > 0);
            io.turnpike.engine.upstream.NodeAddress node = new io.turnpike.engine.upstream.NodeAddress("127.0.0.1:1",
                    new java.net.InetSocketAddress("127.0.0.1", 1), "127.0.0.1:1".getBytes(StandardCharsets.US_ASCII),
                    1, 0);
            io.turnpike.engine.upstream.NodeAddress[] nodes = {node};
            io.turnpike.engine.upstream.UpstreamTarget target = new io.turnpike.engine.upstream.UpstreamTarget("t", 0,
                    nodes, io.turnpike.engine.upstream.UpstreamTarget.PASS_HOST_PASS, null, 1000, 1_000_000_000L, 4,
                    1_000_000_000L, 100, io.turnpike.engine.upstream.Balancers.compile("roundrobin", nodes, null, null,
                    null), 0);
            HeadWriter.writeRequest(buf, head, out, new ForwardedLines("10.0.0.1".getBytes(StandardCharsets.US_ASCII),
                    "9080".getBytes(StandardCharsets.US_ASCII), false), target, node, null, true);
            String up = out.toString(StandardCharsets.US_ASCII);
            assertTrue(up.contains("\r\nUpgrade: websocket\r\n"), up);
            assertTrue(up.contains("\r\nConnection: upgrade\r\n"), up);
            assertFalse(up.contains("keep-alive"), up);
            assertTrue(up.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), up);
            out.clear();
            HeadWriter.writeRequest(buf, head, out, new ForwardedLines("10.0.0.1".getBytes(StandardCharsets.US_ASCII),
                    "9080".getBytes(StandardCharsets.US_ASCII), false), target, node, null, false);
            String plain = out.toString(StandardCharsets.US_ASCII);
            assertFalse(plain.toLowerCase().contains("upgrade"), plain);
            assertEquals(-1, plain.indexOf("Connection:"), plain);
        } finally {
            buf.release();
            out.release();
        }
    }
}
