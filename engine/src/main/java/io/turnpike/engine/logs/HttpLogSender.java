package io.turnpike.engine.logs;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The process's one http-logger sender thread ({@code turnpike-http-logger}, daemon): POSTs the batches that
 * {@link HttpLoggerSink}s close, one at a time, with the JDK's HTTP client (HTTP/1.1, the plugin's {@code timeout});
 * a status of 400 or more, a timeout or a connection error is a failure, retried as the plugin says (APISIX's batch
 * processor). Retries wait on this thread, so a failing receiver delays the other loggers' batches: bounded by
 * {@link #QUEUE_BATCHES}, beyond which batches are dropped and counted.
 */
public final class HttpLogSender {
    /** Batches waiting to be sent, all http-loggers together. */
    public static final int QUEUE_BATCHES = 64;
    private static HttpLogSender instance;

    private record Batch(HttpLoggerSink sink, List<byte[]> entries) {
    }

    private final ArrayBlockingQueue<Batch> queue = new ArrayBlockingQueue<>(QUEUE_BATCHES);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private HttpLogSender() {
        Thread t = new Thread(this::run, "turnpike-http-logger");
        t.setDaemon(true);
        t.start();
    }

    public static synchronized HttpLogSender get() {
        if (instance == null) {
            instance = new HttpLogSender();
        }
        return instance;
    }

    /** Waits until every submitted batch was sent or given up on (at stop); false on timeout. */
    public static boolean awaitIdleIfStarted(long timeoutMs) {
        HttpLogSender s;
        synchronized (HttpLogSender.class) {
            s = instance;
        }
        if (s == null) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (s.inFlight.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    void submit(HttpLoggerSink sink, List<byte[]> entries) {
        inFlight.incrementAndGet();
        if (!queue.offer(new Batch(sink, entries))) {
            inFlight.decrementAndGet();
            sink.dropped.addAndGet(entries.size());
            System.err.println("turnpike: " + sink + ": " + entries.size() + " entries dropped (send queue full)");
        }
    }

    private void run() {
        while (true) {
            Batch b;
            try {
                b = queue.take();
            } catch (InterruptedException e) {
                continue;
            }
            try {
                send(b);
            } catch (RuntimeException e) {
                System.err.println("turnpike: " + b.sink + ": " + e);
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    private void send(Batch b) {
        HttpLoggerSink.Settings s = b.sink.settings;
        byte[] body = b.sink.body(b.entries);
        HttpRequest.Builder rb = HttpRequest.newBuilder(s.uri()).timeout(Duration.ofMillis(s.timeoutMs()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (s.authHeader() != null) {
            rb.header("Authorization", s.authHeader());
        }
        HttpRequest req = rb.build();
        String last = null;
        for (int attempt = 0; attempt <= s.maxRetryCount(); attempt++) {
            if (attempt > 0 && s.retryDelayMs() > 0) {
                try {
                    Thread.sleep(s.retryDelayMs());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                HttpResponse<Void> r = client.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() < 400) {
                    b.sink.delivered.addAndGet(b.entries.size());
                    return;
                }
                last = "server returned status code[" + r.statusCode() + "]";
            } catch (java.io.IOException e) {
                last = "failed to write request to " + s.uri() + ": " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                last = "interrupted";
            }
            b.sink.failedAttempts.incrementAndGet();
        }
        b.sink.dropped.addAndGet(b.entries.size());
        System.err.println("turnpike: " + b.sink + ": batch of " + b.entries.size() + " entries dropped after "
                + (s.maxRetryCount() + 1) + " attempt(s): " + last);
    }
}
