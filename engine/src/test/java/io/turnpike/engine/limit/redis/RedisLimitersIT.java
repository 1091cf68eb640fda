package io.turnpike.engine.limit.redis;

import io.turnpike.engine.limit.ConnLimiter;
import io.turnpike.engine.limit.CountLimiter;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.limit.ReqLimiter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis-backed limiters against real {@code redis-server} processes: two limiter instances with different gateway ids
 * sharing one Redis are two gateways' views. Every acquire that answers WAIT must be woken (bounded).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisLimitersIT {
    private final List<AutoCloseable> closers = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).close();
        }
    }

    private RedisLimiters gateway(String id) {
        RedisLimiters g = new RedisLimiters(id);
        closers.add(g::close);
        return g;
    }

    private RedisProcess redis() throws Exception {
        RedisProcess r = RedisProcess.start();
        closers.add(r);
        return r;
    }

    static RemotePolicy policy(int port, long timeoutMs) {
        return new RemotePolicy(false, List.of("127.0.0.1:" + port), null, null, 0, timeoutMs, false, false, null);
    }

    interface Acquire {
        int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake);
    }

    /** One caller (an exchange's view): resolves WAIT by waiting (bounded) for its wake task. */
    static final class Caller {
        final Semaphore woke = new Semaphore(0);
        final Runnable wake = woke::release;
        final LimitResult out = new LimitResult();
        final LimitKey key = new LimitKey();
        int waits;
        long maxWaitNs;

        int call(Acquire a, byte[] k) throws InterruptedException {
            for (;;) {
                out.clear();
                int d = a.acquire(key.wrap(k, 0, k.length), LimitClock.nowMs(), out, wake);
                if (d != Decision.WAIT) {
                    return d;
                }
                waits++;
                long t0 = System.nanoTime();
                if (!woke.tryAcquire(10, TimeUnit.SECONDS)) {
                    throw new AssertionError("WAIT not woken within 10 s");
                }
                long w = System.nanoTime() - t0;
                if (w > maxWaitNs) {
                    maxWaitNs = w;
                }
            }
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Runs {@code threads} threads until each returns; rethrows the first failure. */
    static void runAll(List<Runnable> bodies) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (Runnable r : bodies) {
            Thread t = new Thread(() -> {
                try {
                    r.run();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            t.start();
            ts.add(t);
        }
        for (Thread t : ts) {
            t.join(60_000);
            assertTrue(!t.isAlive(), "a caller thread hung");
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void countIsExactAcrossTwoGateways() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 1000);
        long limit = 2_000;
        CountLimiter a = gateway("gw-a").count(p, "route-1#count", limit, 60, false);
        CountLimiter c = gateway("gw-b").count(p, "route-1#count", limit, 60, false);
        AtomicLong admitted = new AtomicLong();
        AtomicLong waits = new AtomicLong();
        List<Caller> callers = new ArrayList<>();
        List<Runnable> bodies = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            CountLimiter l = i % 2 == 0 ? a : c;
            Caller caller = new Caller();
            callers.add(caller);
            bodies.add(() -> {
                try {
                    int rejectsInARow = 0;
                    while (rejectsInARow < 200) {
                        int d = caller.call(l::acquire, b("client-1"));
                        assertNotEquals(Decision.ERROR, d, "Redis is up: no ERROR");
                        if (d == Decision.ADMIT) {
                            admitted.incrementAndGet();
                            rejectsInARow = 0;
                        } else {
                            rejectsInARow++;
                        }
                    }
                    waits.addAndGet(caller.waits);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        runAll(bodies);
        assertEquals(limit, admitted.get(), "admitted in the window == limit, exactly");
        assertEquals(String.valueOf(limit), r.cli("HGET", "tp:lc:{route-1#count:client-1}", "n").trim());
        Thread.sleep(200);
        for (Caller caller : callers) {
            assertEquals(0, caller.woke.availablePermits(), "each WAIT woken exactly once");
        }
        // A new window opens once the old one ends.
        assertTrue(waits.get() >= 1, "the first requests waited for a lease");
    }

    @Test
    void countWindowRollsAndIdleQuotaGoesBack() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 1000);
        RedisCountLimiter a = (RedisCountLimiter) gateway("gw-a").count(p, "roll", 100, 1, false);
        RedisCountLimiter c = (RedisCountLimiter) gateway("gw-b").count(p, "roll", 100, 1, false);
        Caller ca = new Caller();
        Caller cc = new Caller();
        // gw-a warms up and holds a lease; its traffic stops; the sweeper gives the lease back.
        for (int i = 0; i < 30; i++) {
            assertEquals(Decision.ADMIT, ca.call(a::acquire, b("k")));
        }
        long heldBefore = a.held(new LimitKey().wrap(b("k"), 0, 1));
        a.sweep(LimitClock.nowMs());
        a.sweep(LimitClock.nowMs());
        Thread.sleep(100);
        assertEquals(0, a.held(new LimitKey().wrap(b("k"), 0, 1)));
        long used = Long.parseLong(r.cli("HGET", "tp:lc:{roll:k}", "n").trim());
        assertEquals(30, used, "the " + heldBefore + " idle tokens went back: Redis counts only what was used");
        // gw-b can now take the rest of the window: exactly 70.
        int admitted = 0;
        for (int i = 0; i < 200; i++) {
            if (cc.call(c::acquire, b("k")) == Decision.ADMIT) {
                admitted++;
            }
        }
        assertTrue(admitted <= 70, "never past the limit: " + admitted);
        // After the window (1 s) a new one opens.
        Thread.sleep(1100);
        assertEquals(Decision.ADMIT, cc.call(c::acquire, b("k")));
        assertEquals(Decision.ADMIT, ca.call(a::acquire, b("k")));
    }

    @Test
    void connNeverExceedsConnPlusBurstAcrossTwoGateways() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 1000);
        ConnLimiter a = gateway("gw-a").conn(p, "conn-1", 5, 3, 1, true);
        ConnLimiter c = gateway("gw-b").conn(p, "conn-1", 5, 3, 1, true);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger max = new AtomicInteger();
        AtomicLong admitted = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        List<Runnable> bodies = new ArrayList<>();
        List<Caller> callers = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ConnLimiter l = i % 2 == 0 ? a : c;
            Caller caller = new Caller();
            callers.add(caller);
            bodies.add(() -> {
                try {
                    while (System.nanoTime() < end) {
                        int d = caller.call(l::acquire, b("client"));
                        assertNotEquals(Decision.ERROR, d);
                        if (d == Decision.ADMIT) {
                            int n = inFlight.incrementAndGet();
                            max.accumulateAndGet(n, Math::max);
                            admitted.incrementAndGet();
                            Thread.sleep(0, 200_000);
                            inFlight.decrementAndGet();
                            caller.out.hold.exchangeEnded(null);
                        } else {
                            rejected.incrementAndGet();
                            Thread.yield();
                        }
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        runAll(bodies);
        assertTrue(max.get() <= 8, "in flight across the fleet never above conn + burst: " + max.get());
        assertTrue(admitted.get() > 0 && rejected.get() > 0, admitted + " admitted, " + rejected + " rejected");
        long sum = 0;
        for (String line : r.cli("HVALS", "tp:ln:{conn-1:client}:h").split("\n")) {
            if (!line.isBlank()) {
                sum += Long.parseLong(line.trim());
            }
        }
        assertTrue(sum <= 8, "Redis holdings " + sum);
    }

    @Test
    void connSlotsOfACrashedGatewayExpire() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 1000);
        RedisLimiters ga = new RedisLimiters("gw-crashing");
        RedisLink la = ga.link(p);
        RedisConnLimiter a = new RedisConnLimiter(la, "conn-2", 2, 0, 1, true, 1500);
        RedisConnLimiter c = new RedisConnLimiter(gateway("gw-b").link(p), "conn-2", 2, 0, 1, true, 1500);
        Caller ca = new Caller();
        Caller cc = new Caller();
        assertEquals(Decision.ADMIT, ca.call(a::acquire, b("k")));
        assertEquals(Decision.ADMIT, ca.call(a::acquire, b("k")));
        assertEquals(Decision.REJECT, cc.call(c::acquire, b("k")), "2 slots held by gw-crashing");
        ga.close(); // crash: the slots are never given back
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int d;
        do {
            Thread.sleep(100);
            d = cc.call(c::acquire, b("k"));
        } while (d != Decision.ADMIT && System.nanoTime() < deadline);
        assertEquals(Decision.ADMIT, d, "the crashed gateway's slots expired");
    }

    @Test
    void reqAdmitsBurstThenRateAcrossTwoGateways() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 1000);
        double rate = 200;
        double burst = 40;
        ReqLimiter a = gateway("gw-a").req(p, "req-1", rate, burst);
        ReqLimiter c = gateway("gw-b").req(p, "req-1", rate, burst);
        AtomicLong admitted = new AtomicLong();
        long start = System.nanoTime();
        long end = start + TimeUnit.MILLISECONDS.toNanos(1500);
        List<Runnable> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ReqLimiter l = i % 2 == 0 ? a : c;
            Caller caller = new Caller();
            bodies.add(() -> {
                try {
                    while (System.nanoTime() < end) {
                        int d = caller.call(l::acquire, b("ip"));
                        assertNotEquals(Decision.ERROR, d);
                        if (d == Decision.ADMIT) {
                            admitted.incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        runAll(bodies);
        double seconds = (System.nanoTime() - start) / 1e9;
        double most = burst + 1 + rate * seconds;
        assertTrue(admitted.get() <= most, "admitted " + admitted + " <= " + most);
        assertTrue(admitted.get() >= (burst + 1 + rate * 1.5) / 2, "admitted " + admitted + " (under admission)");
    }

    @Test
    void redisKilledAndRestartedUnderLoad() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 500);
        RedisLimiters g = gateway("gw-a");
        CountLimiter l = g.count(p, "outage", 1_000_000_000L, 60, false);
        Caller warm = new Caller();
        for (int i = 0; i < 2_000; i++) {
            assertEquals(Decision.ADMIT, warm.call(l::acquire, b("hot")), "connected, the hot key holds a lease");
        }
        // 4 threads stand for event loops: each decides on a hot key and on a fresh key in turn, all along.
        java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger(); // 0 up, 1 down, 2 restarted
        AtomicLong errorsWhileDown = new AtomicLong();
        AtomicLong hotAdmitsWhileDown = new AtomicLong();
        AtomicLong freshAdmitsAfterRestart = new AtomicLong();
        AtomicLong fresh = new AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Caller> callers = new ArrayList<>();
        List<Runnable> bodies = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Caller caller = new Caller();
            callers.add(caller);
            bodies.add(() -> {
                try {
                    while (!stop.get()) {
                        int ph = phase.get();
                        int d = caller.call(l::acquire, b("hot"));
                        if (ph == 1 && d == Decision.ADMIT) {
                            hotAdmitsWhileDown.incrementAndGet();
                        }
                        ph = phase.get();
                        d = caller.call(l::acquire, b("fresh-" + fresh.incrementAndGet()));
                        if (ph == 1 && d == Decision.ERROR) {
                            errorsWhileDown.incrementAndGet();
                        }
                        if (ph == 2 && d == Decision.ADMIT) {
                            freshAdmitsAfterRestart.incrementAndGet();
                        }
                        Thread.sleep(1);
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        Thread driver = new Thread(() -> {
            try {
                Thread.sleep(500);
                r.kill();
                phase.set(1);
                Thread.sleep(1500);
                r.restart();
                phase.set(2);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                while (freshAdmitsAfterRestart.get() < 50 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            } finally {
                stop.set(true);
            }
        });
        driver.start();
        runAll(bodies); // every WAIT woken within its bound: no hang
        driver.join(30_000);
        assertTrue(errorsWhileDown.get() > 0, "keys without quota answer ERROR while Redis is down: " + g.statusJson());
        assertTrue(hotAdmitsWhileDown.get() > 0, "the hot key spends its lease while Redis is down");
        assertTrue(freshAdmitsAfterRestart.get() >= 50, "recovered by itself: " + g.statusJson());
        assertTrue(g.statusJson().contains("\"up\":true"), g.statusJson());
        Thread.sleep(300);
        for (Caller c : callers) {
            assertEquals(0, c.woke.availablePermits(), "each WAIT woken exactly once");
        }
    }

    @Test
    void slowRedisDoesNotDelayKeysHoldingALease() throws Exception {
        RedisProcess r = redis();
        RemotePolicy p = policy(r.port, 3000);
        RedisCountLimiter l = (RedisCountLimiter) gateway("gw-a").count(p, "slow", 1_000_000_000L, 60, false);
        Caller caller = new Caller();
        LimitKey hot = new LimitKey().wrap(b("hot"), 0, 3);
        for (int i = 0; i < 100_000 && l.held(hot) < 200; i++) {
            assertEquals(Decision.ADMIT, caller.call(l::acquire, b("hot")));
        }
        assertTrue(l.held(hot) >= 200, "the hot key holds a lease: " + l.held(hot));
        Process sleep = r.cliAsync("DEBUG", "SLEEP", "0.5");
        Thread.sleep(100);
        int waitsBefore = caller.waits;
        for (int i = 0; i < 100; i++) {
            out:
            assertEquals(Decision.ADMIT, caller.call(l::acquire, b("hot")));
        }
        assertEquals(waitsBefore, caller.waits, "no decision of the hot key waited on the sleeping Redis");
        // A cold key waits for the sleeping Redis and is woken when it answers.
        assertEquals(Decision.ADMIT, caller.call(l::acquire, b("cold")));
        assertEquals(waitsBefore + 1, caller.waits);
        sleep.waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void redisClusterCountAndConn() throws Exception {
        RedisProcess.Cluster cluster = RedisProcess.Cluster.start();
        closers.add(cluster);
        RemotePolicy p = new RemotePolicy(true, cluster.seeds(), null, null, 0, 2000, false, false, "tp");
        RedisLimiters gA = gateway("gw-a");
        CountLimiter a = gA.count(p, "cl", 300, 60, false);
        CountLimiter c = gateway("gw-b").count(p, "cl", 300, 60, false);
        ConnLimiter ca = gateway("gw-c").conn(p, "clc", 2, 1, 1, true);
        AtomicLong admitted = new AtomicLong();
        List<Runnable> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            CountLimiter l = i % 2 == 0 ? a : c;
            Caller caller = new Caller();
            bodies.add(() -> {
                try {
                    for (int k = 0; k < 8; k++) {
                        int rejects = 0;
                        while (rejects < 100) {
                            int d = caller.call(l::acquire, b("key-" + k));
                            assertNotEquals(Decision.ERROR, d, () -> "status " + gA.statusJson());
                            if (d == Decision.ADMIT) {
                                admitted.incrementAndGet();
                                rejects = 0;
                            } else {
                                rejects++;
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        runAll(bodies);
        assertEquals(8 * 300, admitted.get(), "8 keys over 3 nodes, 300 each, exactly");
        Caller cc = new Caller();
        List<LimitResult> holds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assertEquals(Decision.ADMIT, cc.call(ca::acquire, b("k")));
            LimitResult kept = new LimitResult();
            kept.hold = cc.out.hold;
            holds.add(kept);
        }
        assertEquals(Decision.REJECT, cc.call(ca::acquire, b("k")));
        holds.get(0).hold.exchangeEnded(null);
        assertEquals(Decision.ADMIT, cc.call(ca::acquire, b("k")));
    }
}
