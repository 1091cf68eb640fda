package io.turnpike.engine.logs;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * APISIX {@code http-logger}'s batch processor: entries (APISIX's default log entry, JSON) collect into a batch on
 * the log writer thread; a batch goes to the {@link HttpLogSender} thread when it holds {@code batch_max_size}
 * entries, when no entry came for {@code inactive_timeout} seconds, when its first entry is {@code buffer_duration}
 * seconds old, or when the gateway stops. The sender POSTs it ({@code concat_method} json: one object, or an array
 * for several; new_line: one object per line) and retries a failed one {@code max_retry_count} times,
 * {@code retry_delay} seconds apart. Bounded memory: one open batch per configured plugin and
 * {@link HttpLogSender#QUEUE_BATCHES} queued batches in the process; a batch that finds the queue full is dropped
 * and counted.
 *
 * <p>One per compiled plugin configuration (immutable settings); batch state is confined to the writer thread.
 */
public final class HttpLoggerSink implements LogWriter.TimedSink {
    public record Settings(String name, URI uri, String authHeader, long timeoutMs, boolean concatJson,
                           int batchMaxSize, long inactiveTimeoutMs, long bufferDurationMs, int maxRetryCount,
                           long retryDelayMs) {
    }

    public final Settings settings;
    private final ApisixLogEntry entry = new ApisixLogEntry();
    private final Out out = new Out();
    private List<byte[]> batch = new ArrayList<>();
    private long firstMs;
    private long lastMs;
    /** Entries delivered (2xx/3xx), and entries given up on (retries exhausted, or the queue was full). */
    public final AtomicLong delivered = new AtomicLong();
    public final AtomicLong dropped = new AtomicLong();
    public final AtomicLong failedAttempts = new AtomicLong();

    public HttpLoggerSink(Settings settings) {
        this.settings = settings;
    }

    @Override
    public void write(LogSlot slot) {
        out.reset();
        entry.render(slot, out);
        long now = System.currentTimeMillis();
        if (batch.isEmpty()) {
            firstMs = now;
            LogWriter.get().tick(this);
        }
        lastMs = now;
        batch.add(Arrays.copyOf(out.b, out.n));
        if (batch.size() >= settings.batchMaxSize()) {
            submit();
        }
    }

    @Override
    public boolean tick(long nowMs, boolean all) {
        if (batch.isEmpty()) {
            return true;
        }
        if (all || nowMs - lastMs >= settings.inactiveTimeoutMs() || nowMs - firstMs >= settings.bufferDurationMs()) {
            submit();
            return true;
        }
        return false;
    }

    private void submit() {
        List<byte[]> b = batch;
        batch = new ArrayList<>();
        HttpLogSender.get().submit(this, b);
    }

    /** The request body of a batch, as APISIX's http-logger sends it. */
    byte[] body(List<byte[]> entries) {
        int n = 2 + entries.size();
        for (byte[] e : entries) {
            n += e.length;
        }
        byte[] b = new byte[n];
        int p = 0;
        boolean array = settings.concatJson() && entries.size() > 1;
        if (array) {
            b[p++] = '[';
        }
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                b[p++] = (byte) (settings.concatJson() ? ',' : '\n');
            }
            byte[] e = entries.get(i);
            System.arraycopy(e, 0, b, p, e.length);
            p += e.length;
        }
        if (array) {
            b[p++] = ']';
        }
        return Arrays.copyOf(b, p);
    }

    @Override
    public String toString() {
        return "http-logger " + settings.name() + " " + settings.uri();
    }
}
