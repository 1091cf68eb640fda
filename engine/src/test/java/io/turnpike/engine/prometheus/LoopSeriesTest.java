package io.turnpike.engine.prometheus;

import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.RouteConditions;
import io.turnpike.engine.upstream.NodeAddress;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One loop's series table: bucket placement, the cap and its overflow series, expiry and slot reuse. */
class LoopSeriesTest {
    static final double[] BUCKETS = {1, 5, 10};

    static CompiledRoute route(String id) {
        return new CompiledRoute(id, RouteConditions.compile(List.of("/" + id), List.of(), List.of(), List.of(), null),
                0, null, 0);
    }

    static final NodeAddress NODE = new NodeAddress("127.0.0.1:80", new InetSocketAddress("127.0.0.1", 80),
            "127.0.0.1:80".getBytes(), 1, 0);

    static long status(LoopSeries t, int slot, int code) {
        long n = 0;
        for (int x = 0; x < t.sUsed; x++) {
            if ((t.sGen[x] & 1) == 0 && t.sParent[x] == slot && t.sCode[x] == code) {
                n += t.sCount[x];
            }
        }
        return n;
    }

    static int slotOf(LoopSeries t, String routeId) {
        for (int s = 1; s < t.used; s++) {
            if ((t.gen[s] & 1) == 0 && routeId.equals(t.routeIds[s])) {
                return s;
            }
        }
        return -1;
    }

    @Test
    void latencyLandsInItsBucketAndStatusCodesCount() {
        LoopSeries t = new LoopSeries(BUCKETS, 64);
        CompiledRoute a = route("a");
        t.record(a, NODE, "jack", false, 200, 3_000_000, 2_000_000, 100, 1000); // 3 ms request, 2 ms upstream
        t.record(a, NODE, "jack", false, 200, 20_000_000, -1, 10, 20);           // 20 ms, no upstream
        t.record(a, NODE, "jack", false, 503, 500_000, -1, 10, 20);               // 0.5 ms
        int s = slotOf(t, "a");
        int base = s * t.stride;
        assertEquals(1, t.data[base + LoopSeries.REQUEST * t.rowLen]);      // <= 1 ms
        assertEquals(1, t.data[base + LoopSeries.REQUEST * t.rowLen + 1]);  // <= 5 ms
        assertEquals(1, t.data[base + LoopSeries.REQUEST * t.rowLen + 3]);  // +Inf
        assertEquals(1, t.data[base + LoopSeries.UPSTREAM * t.rowLen + 1]);
        assertEquals(2, t.data[base + LoopSeries.APISIX * t.rowLen]);       // 3 - 2 = 1 ms, and the 0.5 ms one
        assertEquals(3_000 + 20_000 + 500, t.data[base + t.sumOff + LoopSeries.REQUEST]);
        assertEquals(120, t.data[base + t.ingressOff]);
        assertEquals(1040, t.data[base + t.egressOff]);
        assertEquals(2, status(t, s, 200));
        assertEquals(1, status(t, s, 503));
        // a recompiled route (another object, same id) keeps counting in the same series
        t.record(route("a"), NODE, "jack", false, 200, 1, -1, 0, 0);
        assertEquals(3, status(t, s, 200));
        assertEquals(s, slotOf(t, "a"));
    }

    @Test
    void beyondTheCapExchangesCountInTheOverflowSeries() {
        LoopSeries t = new LoopSeries(BUCKETS, 16);
        for (int i = 0; i < 40; i++) {
            t.record(route("r" + i), NODE, null, false, 200, 1, -1, 1, 1);
        }
        assertEquals(16, t.used, "slot 0 is the overflow series, 15 routes have their own");
        assertEquals(40 - 15, t.data[t.ingressOff], "the overflow series' bytes");
        assertEquals(40 - 15, status(t, 0, 200));
        assertEquals(LoopSeries.OVERFLOW_ROUTE, t.routeIds[0]);
    }

    @Test
    void aMarkedSeriesIsFreedWithItsStatusSeriesAndItsSlotReused() {
        LoopSeries t = new LoopSeries(BUCKETS, 64);
        t.record(route("old"), NODE, null, false, 200, 1, -1, 1, 1);
        t.record(route("keep"), NODE, null, false, 404, 1, -1, 1, 1);
        int s = slotOf(t, "old");
        int g = t.gen[s];
        t.markDead(s, g - 2); // a mark for an earlier incarnation does nothing
        assertEquals(0, t.expire());
        t.markDead(s, g);
        assertEquals(1, t.expire());
        assertEquals(1, t.gen[s] & 1, "free");
        assertEquals(0, status(t, s, 200), "its status series went with it");
        t.record(route("new"), NODE, null, false, 201, 1, -1, 1, 1);
        assertEquals(s, slotOf(t, "new"), "the free slot is reused");
        assertEquals(1, status(t, s, 201));
        assertEquals(0, status(t, s, 200));
        assertEquals(1, t.data[s * t.stride + t.ingressOff], "values start from zero");
        assertEquals(1, status(t, slotOf(t, "keep"), 404), "other series untouched");
        t.record(route("old"), NODE, null, false, 200, 1, -1, 1, 1);
        assertEquals(1, status(t, slotOf(t, "old"), 200), "a route that comes back starts a new series");
    }
}
