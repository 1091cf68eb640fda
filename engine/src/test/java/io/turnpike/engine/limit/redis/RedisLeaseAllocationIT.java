package io.turnpike.engine.limit.redis;

import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.ReqLimiter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request path of the Redis-backed limiters allocates nothing in the steady state: a thread standing for an event
 * loop decides 200,000 times on hot keys (leases, prefetches and their queueing included; the pump and Lettuce's
 * threads allocate on their own threads) and its allocated-bytes counter does not move beyond noise.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisLeaseAllocationIT {
    @Test
    void acquireAllocatesNothingInTheSteadyState() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (RedisProcess r = RedisProcess.start()) {
            RedisLimiters g = new RedisLimiters("gw-alloc");
            try {
                var p = RedisLimitersIT.policy(r.port, 2000);
                RedisCountLimiter count = (RedisCountLimiter) g.count(p, "alloc-c", 1_000_000_000L, 3600, false);
                ReqLimiter req = g.req(p, "alloc-r", 1_000_000, 1_000_000);
                var conn = g.conn(p, "alloc-n", 1_000, 0, 1, true);
                Semaphore woke = new Semaphore(0);
                Runnable wake = woke::release;
                LimitResult out = new LimitResult();
                LimitKey key = new LimitKey();
                byte[] k = "hot-key".getBytes(StandardCharsets.US_ASCII);
                int[] waits = new int[1];
                RedisLimitersIT.Acquire[] limiters = {count::acquire, req::acquire, conn::acquire};
                Runnable round = () -> {
                    for (RedisLimitersIT.Acquire a : limiters) {
                        for (;;) {
                            out.clear();
                            int d = a.acquire(key.wrap(k, 0, k.length), LimitClock.nowMs(), out, wake);
                            if (d == Decision.ADMIT) {
                                if (out.hold != null) {
                                    out.hold.exchangeEnded(null);
                                }
                                break;
                            }
                            assertEquals(Decision.WAIT, d);
                            waits[0]++;
                            try {
                                assertTrue(woke.tryAcquire(10, TimeUnit.SECONDS));
                            } catch (InterruptedException e) {
                                throw new RuntimeException(e);
                            }
                        }
                    }
                };
                for (int i = 0; i < 50_000; i++) {
                    round.run();
                }
                long tid = Thread.currentThread().getId();
                int n = 200_000;
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < n; i++) {
                    round.run();
                }
                long bytes = mx.getThreadAllocatedBytes(tid) - before;
                double perDecision = bytes / (3.0 * n);
                System.out.printf("REDIS_LEASE_ALLOC %.4f bytes/decision (%d waits)%n", perDecision, waits[0]);
                assertTrue(perDecision < 0.5, "allocated " + bytes + " bytes over " + 3 * n + " decisions");
                assertTrue(g.statusJson().contains("\"failures\":0"), g.statusJson());
            } finally {
                g.close();
            }
        }
    }
}
