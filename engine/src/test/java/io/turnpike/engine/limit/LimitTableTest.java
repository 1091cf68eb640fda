package io.turnpike.engine.limit;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared limiters on their own (a controllable clock, no sockets): exact decisions under contention, reclaiming
 * racing with requests never doubles a key, and a million keys are held in bounded memory and reclaimed once their
 * windows end.
 */
class LimitTableTest {
    private static LimitKey key(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return new LimitKey().wrap(b, 0, b.length);
    }

    @Test
    void fixedWindowAdmitsExactlyTheLimitUnderContention() throws Exception {
        LocalFixedWindow w = new LocalFixedWindow("t", 1000, 60);
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            fs.add(pool.submit(() -> {
                LimitKey k = key("same");
                LimitResult out = new LimitResult();
                for (int i = 0; i < 5000; i++) {
                    if (w.acquire(k, 10_000, out, null) == Decision.ADMIT) {
                        admitted.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(1000, admitted.get());
        LimitResult out = new LimitResult();
        assertEquals(Decision.REJECT, w.acquire(key("same"), 10_000 + 59_000, out, null));
        assertEquals(Decision.ADMIT, w.acquire(key("same"), 10_000 + 60_000, out, null), "the window reopened");
        assertEquals(999, out.remaining);
    }

    @Test
    void slidingWindowWeighsThePreviousWindow() {
        LocalSlidingWindow w = new LocalSlidingWindow("t", 10, 10);
        LimitResult out = new LimitResult();
        LimitKey k = key("k");
        int ok = 0;
        for (int i = 0; i < 20; i++) {
            ok += w.acquire(k, 100_000 + i, out, null) == Decision.ADMIT ? 1 : 0; // window [100 s, 110 s)
        }
        assertEquals(10, ok);
        // Halfway through the next window the previous one still weighs 10 * 0.5 = 5: five more, not ten.
        ok = 0;
        for (int i = 0; i < 20; i++) {
            ok += w.acquire(k, 115_000, out, null) == Decision.ADMIT ? 1 : 0;
        }
        assertEquals(5, ok);
        // Two windows later nothing of it is left.
        ok = 0;
        for (int i = 0; i < 20; i++) {
            ok += w.acquire(k, 130_000, out, null) == Decision.ADMIT ? 1 : 0;
        }
        assertEquals(10, ok);
    }

    @Test
    void leakyBucketFollowsRestyArithmetic() {
        LocalLeakyBucket b = new LocalLeakyBucket("t", 10, 2); // 10/s, burst 2
        LimitResult out = new LimitResult();
        LimitKey k = key("k");
        assertEquals(Decision.ADMIT, b.acquire(k, 5000, out, null));
        assertEquals(0, out.delayMs);
        assertEquals(Decision.ADMIT, b.acquire(k, 5000, out, null));
        assertEquals(100, out.delayMs); // excess 1 request at 10/s
        assertEquals(Decision.ADMIT, b.acquire(k, 5000, out, null));
        assertEquals(200, out.delayMs);
        assertEquals(Decision.REJECT, b.acquire(k, 5000, out, null)); // excess would be 3 > burst 2
        assertEquals(Decision.ADMIT, b.acquire(k, 5100, out, null)); // 100 ms drained one
        assertEquals(200, out.delayMs);
    }

    /**
     * Reclaiming races with requests: 4 threads take and give back slots of 8 keys (conn 3) while a sweeper reclaims
     * idle entries as fast as it can. If a key ever had two live entries, more than 3 requests of it would be in flight.
     */
    @Test
    void reclaimingNeverLetsAKeyHaveTwoLiveEntries() throws Exception {
        LocalConnLimiter c = new LocalConnLimiter("t", 3, 0, 0, true);
        AtomicInteger[] inFlight = new AtomicInteger[8];
        for (int i = 0; i < 8; i++) {
            inFlight[i] = new AtomicInteger();
        }
        AtomicInteger worst = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reclaimed = new AtomicLong();
        Thread sweeper = new Thread(() -> {
            while (!stop.get()) {
                reclaimed.addAndGet(c.sweep(0));
            }
        });
        sweeper.start();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            fs.add(pool.submit(() -> {
                LimitResult out = new LimitResult();
                java.util.Random r = new java.util.Random(seed);
                for (int i = 0; i < 200_000; i++) {
                    int k = r.nextInt(8);
                    if (c.acquire(key("key-" + k), 0, out, null) == Decision.ADMIT) {
                        int now = inFlight[k].incrementAndGet();
                        worst.accumulateAndGet(now, Math::max);
                        inFlight[k].decrementAndGet();
                        out.hold.exchangeEnded(null);
                    }
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get(120, TimeUnit.SECONDS);
        }
        stop.set(true);
        sweeper.join();
        pool.shutdown();
        assertTrue(worst.get() <= 3, "in flight for one key: " + worst.get());
        assertTrue(reclaimed.get() > 0, "the sweeper raced with the requests");
    }

    /**
     * Keys come from request data, so their length and number are the client's choice: a key longer than
     * MAX_KEY_BYTES, or a new key in a full table, is not stored and the limiter answers ERROR (allow_degradation
     * decides); keys already held keep being decided.
     */
    @Test
    void keysAreBoundedInLengthAndNumber() {
        long refusedBefore = LimitTable.refused();
        LimitTable<LimitEntry> t = new LimitTable<>(LimitEntry::new, 10);
        for (int i = 0; i < 10; i++) {
            assertTrue(t.get(key("k" + i)) != null);
        }
        assertEquals(null, t.get(key("k10")), "full: a new key is refused");
        assertTrue(t.get(key("k3")) != null, "a key already held is still found");
        assertEquals(10, t.size());
        assertEquals(null, t.get(key("x".repeat(LimitTable.MAX_KEY_BYTES + 1))), "too long");
        assertEquals(refusedBefore + 2, LimitTable.refused());

        LocalFixedWindow w = new LocalFixedWindow("t", 5, 60);
        LimitResult out = new LimitResult();
        assertEquals(Decision.ERROR, w.acquire(key("y".repeat(LimitTable.MAX_KEY_BYTES + 1)), 10_000, out, null));
        assertEquals(Decision.ADMIT, w.acquire(key("y".repeat(LimitTable.MAX_KEY_BYTES)), 10_000, out, null));
        assertEquals(Decision.ERROR, new LocalConnLimiter("t", 1, 0, 0, true)
                .acquire(key("z".repeat(LimitTable.MAX_KEY_BYTES + 1)), 0, out, null));
    }

    /** A million client addresses: bytes per key reported, all reclaimed once their windows end. */
    @Test
    void aMillionKeysAreBoundedAndReclaimed() {
        LocalFixedWindow w = new LocalFixedWindow("t", 100, 1);
        LimitResult out = new LimitResult();
        LimitKey probe = new LimitKey();
        byte[] buf = new byte[16];
        long before = usedHeap();
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            int len = ip(buf, i);
            w.acquire(probe.wrap(buf, 0, len), 50_000, out, null);
        }
        assertEquals(n, w.keys());
        long after = usedHeap();
        System.out.printf("limit-count local: %d keys, %.0f bytes per key (IPv4 addresses as keys)%n", n,
                (after - before) / (double) n);
        assertEquals(n, w.sweep(51_000), "every window ended: every key reclaimed");
        assertEquals(0, w.keys());
        // A reclaimed key starts a fresh window.
        int len = ip(buf, 7);
        assertEquals(Decision.ADMIT, w.acquire(probe.wrap(buf, 0, len), 51_000, out, null));
        assertEquals(99, out.remaining);
    }

    private static int ip(byte[] buf, int i) {
        String s = "10." + ((i >> 16) & 255) + "." + ((i >> 8) & 255) + "." + (i & 255);
        for (int j = 0; j < s.length(); j++) {
            buf[j] = (byte) s.charAt(j);
        }
        return s.length();
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
