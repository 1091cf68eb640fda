package io.turnpike.engine.logs;

import io.turnpike.engine.observe.ExchangeRecord;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-loop ring when the writer cannot keep up: entries are dropped and counted, the producer never waits. */
class LogRingTest {
    @Test
    void aStalledWriterMakesTheRingDropAndCountNeverBlock() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        AtomicInteger written = new AtomicInteger();
        LogSink stalled = slot -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS); // a disk that hangs: the writer thread is stuck here
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            written.incrementAndGet();
        };
        LogRing ring = new LogRing(Thread.currentThread(), 16, 256);
        long dropsBefore = LogWriter.get().drops();
        LogWriter.get().register(ring);
        ExchangeRecord r = new ExchangeRecord();
        r.begin(System.nanoTime(), 1, 40);
        r.endNs = r.startNs + 1_000_000;
        r.status = 200;
        assertTrue(ring.publish(stalled, r));
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the writer took the first entry and stalls in it");
        int accepted = 0;
        int dropped = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 100_000; i++) {
            if (ring.publish(stalled, r)) {
                accepted++;
            } else {
                dropped++;
            }
        }
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        // 16 slots, one held by the stalled writer: at most 15 more fit, the rest are dropped and counted.
        assertEquals(15, accepted);
        assertEquals(100_000 - 15, dropped);
        assertEquals(dropped, ring.drops());
        assertEquals(dropsBefore + dropped, LogWriter.get().drops());
        assertFalse(ring.publish(stalled, r));
        System.out.printf("stalled writer: %d accepted, %d dropped in %d ms (the producer never waited)%n", accepted,
                dropped + 1, elapsedMs);
        release.countDown();
        assertTrue(LogWriter.get().flush(10_000));
        assertEquals(16, written.get(), "everything accepted was written once the writer recovered");
        assertTrue(ring.publish(stalled, r), "slots came back");
        assertTrue(LogWriter.get().flush(10_000));
    }
}
