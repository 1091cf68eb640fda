package io.turnpike.engine.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Keep-alive clients sending GETs until stopped; counts statuses. Bounded by count and time. */
public final class GetLoad implements AutoCloseable {
    final List<Thread> threads = new ArrayList<>();
    public final AtomicLong ok = new AtomicLong();
    public final ConcurrentHashMap<String, AtomicInteger> failures = new ConcurrentHashMap<>();
    public final ConcurrentHashMap<String, AtomicInteger> bodies = new ConcurrentHashMap<>();
    volatile boolean stop;

    public GetLoad(int port, int clients, int maxPerClient, long maxMs) {
        long deadline = System.nanoTime() + maxMs * 1_000_000L;
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(() -> {
                RawHttpClient c = null;
                try {
                    for (int n = 0; n < maxPerClient && !stop && System.nanoTime() < deadline; n++) {
                        if (c == null) {
                            c = new RawHttpClient(port, 10_000);
                        }
                        try {
                            RawHttpClient.Response r = c.exchange("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                                bodies.computeIfAbsent(r.bodyText(), k -> new AtomicInteger()).incrementAndGet();
                            } else {
                                failures.computeIfAbsent("status " + r.status(), k -> new AtomicInteger())
                                        .incrementAndGet();
                            }
                        } catch (IOException e) {
                            failures.computeIfAbsent(e.toString(), k -> new AtomicInteger()).incrementAndGet();
                            c.close();
                            c = null;
                        }
                    }
                } catch (IOException e) {
                    failures.computeIfAbsent(e.toString(), k -> new AtomicInteger()).incrementAndGet();
                } finally {
                    if (c != null) {
                        try {
                            c.close();
                        } catch (IOException ignored) {
                            // closing
                        }
                    }
                }
            });
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads) {
            t.join(15_000);
        }
    }

    /** Waits until {@code atLeast} requests succeeded, at most {@code maxMs}. */
    public void awaitOk(long atLeast, long maxMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + maxMs;
        while (ok.get() < atLeast && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
    }

    public static java.util.Map<String, Integer> counts(ConcurrentHashMap<String, AtomicInteger> m) {
        java.util.Map<String, Integer> out = new java.util.TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }
}
