package io.turnpike.engine.limit.redis;

import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes of lease state per key held by the gateway (limit-count, policy redis): 20,000 keys of 12 bytes, each with a
 * granted lease (so its Redis key name is built), measured as the heap growth after full GCs. Printed for
 * docs/rate-limits-redis.md; the bound only catches a regression by an order of magnitude.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisLeaseMemoryIT {
    @Test
    void bytesPerKey() throws Exception {
        try (RedisProcess r = RedisProcess.start()) {
            RedisLimiters g = new RedisLimiters("gw-mem");
            try {
                RedisCountLimiter l = (RedisCountLimiter) g.count(RedisLimitersIT.policy(r.port, 2000), "mem", 1000,
                        3600, false);
                Semaphore woke = new Semaphore(0);
                Runnable wake = woke::release;
                LimitResult out = new LimitResult();
                LimitKey key = new LimitKey();
                int n = 20_000;
                // Warm up the code paths and the link before measuring.
                acquire(l, key, out, wake, woke, "warmup-key");
                long before = usedAfterGc();
                for (int i = 0; i < n; i++) {
                    acquire(l, key, out, wake, woke, String.format("key-%08d", i));
                }
                long after = usedAfterGc();
                assertEquals(n + 1, l.keys());
                double perKey = (after - before) / (double) n;
                System.out.printf("REDIS_LEASE_BYTES_PER_KEY %.0f (12-byte keys, limit-count, lease held)%n", perKey);
                assertTrue(perKey > 0 && perKey < 2000, "bytes per key " + perKey);
                List.of(l).size(); // keep the limiter reachable until here
            } finally {
                g.close();
            }
        }
    }

    private static void acquire(RedisCountLimiter l, LimitKey key, LimitResult out, Runnable wake, Semaphore woke,
                                String k) throws InterruptedException {
        byte[] b = k.getBytes(StandardCharsets.US_ASCII);
        for (;;) {
            int d = l.acquire(key.wrap(b, 0, b.length), LimitClock.nowMs(), out, wake);
            if (d == Decision.ADMIT) {
                return;
            }
            assertEquals(Decision.WAIT, d);
            assertTrue(woke.tryAcquire(10, TimeUnit.SECONDS));
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }
}
