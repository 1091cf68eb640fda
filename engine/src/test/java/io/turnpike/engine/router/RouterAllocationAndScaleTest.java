package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Zero allocation per match at 10,000 routes; a 50,000-route snapshot compiles (time printed, not asserted). */
class RouterAllocationAndScaleTest {
    private static Snapshot compile(ConfigSet config, List<String> warnings) {
        return new SnapshotCompiler(EngineSettings.defaults()).compile(config, warnings);
    }

    private static final class Parsed {
        final ByteBuf buf;
        final RequestHead head = new RequestHead(100);

        Parsed(String request) {
            byte[] b = request.getBytes(StandardCharsets.US_ASCII);
            // a direct buffer without the leak-detection wrapper (the build runs with paranoid leak detection, whose
            // access records allocate)
            java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(b.length);
            direct.put(b).flip();
            buf = Unpooled.wrappedBuffer(direct);
            assertTrue(new RequestHeadParser(8192, 65536, 100, true).parse(buf, head) > 0, request);
        }
    }

    @Test
    void matchAllocatesNothingAt10kRoutes() throws Exception {
        int n = 10_000;
        List<String> warnings = new ArrayList<>();
        RouteTable t = compile(RouterLoad.routes(n), warnings).routes;
        assertTrue(warnings.isEmpty(), warnings.toString());
        assertEquals(n, t.size());
        // exact, prefix, param, host, vars == (one of each kind in the middle of the table), two normalised paths, a miss
        int mid = n / 2 - (n / 2) % RouterLoad.KINDS;
        List<Parsed> reqs = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < RouterLoad.KINDS; k++) {
            reqs.add(new Parsed(RouterLoad.request(mid + k)));
            expected.add("r" + (mid + k));
        }
        reqs.add(new Parsed("GET /api/v1/./resource" + mid + " HTTP/1.1\r\nHost: h\r\n\r\n"));
        expected.add("r" + mid);
        reqs.add(new Parsed("GET /users" + (mid + 2) + "//%37/orders HTTP/1.1\r\nHost: h\r\n\r\n"));
        expected.add("r" + (mid + 2));
        reqs.add(new Parsed("GET /nowhere/at/all HTTP/1.1\r\nHost: api.example.com\r\n\r\n"));
        expected.add(null);
        MatchScratch scratch = new MatchScratch().remoteAddress(InetAddress.getByName("10.0.0.1"));
        for (int i = 0; i < reqs.size(); i++) {
            CompiledRoute r = t.match(reqs.get(i).buf, reqs.get(i).head, scratch);
            assertEquals(expected.get(i), r == null ? null : r.id, "request " + i);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int size = reqs.size();
        long sink = 0;
        for (int i = 0; i < 200_000; i++) { // warm-up (JIT)
            Parsed p = reqs.get(i % size);
            CompiledRoute r = t.match(p.buf, p.head, scratch);
            sink += r == null ? 1 : r.order;
        }
        int matches = 100_000;
        long before = mx.getThreadAllocatedBytes(tid);
        long start = System.nanoTime();
        for (int i = 0; i < matches; i++) {
            Parsed p = reqs.get(i % size);
            CompiledRoute r = t.match(p.buf, p.head, scratch);
            sink += r == null ? 1 : r.order;
        }
        long elapsed = System.nanoTime() - start;
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        double perMatch = (double) allocated / matches;
        System.out.printf("router: %d matches at %d routes: %.4f bytes/match, %.0f ns/match (sink %d)%n", matches, n,
                perMatch, (double) elapsed / matches, sink);
        for (Parsed p : reqs) {
            p.buf.release();
        }
        assertTrue(perMatch < 1.0, "bytes per match: " + perMatch);
    }

    /**
     * A route with {@code ~~} and {@code ~*} conditions: what one match costs in bytes on the loop thread, with the
     * regex's per-thread matcher warm (RE2/J allocates its input cursor and a copy of the match bounds per search).
     */
    @Test
    void regexVarsAllocationPerMatch() throws Exception {
        List<String> warnings = new ArrayList<>();
        RouteTable t = compile(io.turnpike.engine.testing.Configs.fromYaml("routes:\n"
                + "  - id: re\n    uri: /re\n    vars: [[\"http_user_agent\", \"~*\", \"^mozilla/[0-9.]+ \\\\(.*android\"],"
                + " [\"arg_id\", \"~~\", \"^[0-9a-f]{8}$\"]]\n"
                + "    upstream: {nodes: {\"127.0.0.1:80\": 1}}\n"), warnings).routes;
        assertTrue(warnings.isEmpty(), warnings.toString());
        Parsed p = new Parsed("GET /re?id=0badcafe HTTP/1.1\r\nHost: h\r\n"
                + "User-Agent: Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36\r\n\r\n");
        MatchScratch scratch = new MatchScratch();
        assertEquals("re", t.match(p.buf, p.head, scratch).id);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long sink = 0;
        for (int i = 0; i < 100_000; i++) { // warm-up (JIT)
            sink += t.match(p.buf, p.head, scratch).order;
        }
        int matches = 100_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < matches; i++) {
            sink += t.match(p.buf, p.head, scratch).order;
        }
        double perMatch = (double) (mx.getThreadAllocatedBytes(tid) - before) / matches;
        System.out.printf("router: route with 2 regex conditions: %.1f bytes/match (sink %d)%n", perMatch, sink);
        p.buf.release();
        assertTrue(perMatch <= 2 * 64, "bytes per match: " + perMatch);
    }

    @Test
    void fiftyThousandRoutesCompile() {
        int n = 50_000;
        ConfigSet config = RouterLoad.routes(n);
        List<String> warnings = new ArrayList<>();
        compile(config, warnings); // warm-up
        long best = Long.MAX_VALUE;
        Snapshot s = null;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            s = compile(config, new ArrayList<>());
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("router: compiled %d routes in %.1f ms (best of 3, after one warm-up)%n", n, best / 1e6);
        assertTrue(warnings.isEmpty(), warnings.toString());
        assertEquals(n, s.routes.size());
        for (int i = 0; i < n; i += 997) {
            Parsed p = new Parsed(RouterLoad.request(i));
            CompiledRoute r = s.routes.match(p.buf, p.head);
            assertNotNull(r, "route " + i);
            assertEquals("r" + i, r.id);
            p.buf.release();
        }
        Parsed miss = new Parsed("GET /users1/7/other HTTP/1.1\r\nHost: h\r\n\r\n");
        assertNull(s.routes.match(miss.buf, miss.head));
        miss.buf.release();
    }
}
