package io.turnpike.engine.logs;

import io.netty.buffer.ByteBuf;
import io.turnpike.config.process.AccessLogConfig;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.observe.ExchangeObserver;
import io.turnpike.engine.observe.ExchangeRecord;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The access log ({@code turnpike.access_log}): one line per exchange (proxied, answered by a plugin, refused,
 * malformed, aborted) in the configured format, appended to a file by the {@link LogWriter} thread.
 *
 * <p>On the loops ({@link #observer()}, one per loop): {@code onRequest} copies the request head's bytes into the
 * exchange's {@link io.turnpike.engine.observe.RequestCopy}; {@code onComplete} copies the record's fixed fields and
 * those bytes into a slot of the loop's {@link LogRing} (a drop, counted, when the ring is full). No formatting,
 * locks, waits or allocation there. On the writer thread: {@link #write} formats the line and appends it.
 */
public final class AccessLog implements LogSink {
    private final AccessLogFormatter formatter;
    private final FileAppender file;
    private final int maxHeadBytes;
    private final Out out = new Out();

    private AccessLog(AccessLogConfig c, FileAppender file) {
        this.formatter = new AccessLogFormatter(c.format(), c.jsonEscape());
        this.file = file;
        this.maxHeadBytes = c.maxRequestBytes();
    }

    /**
     * Opens the log file (an error names the path: the gateway refuses to start) and sizes the rings; null when the
     * access log is off.
     */
    public static AccessLog open(AccessLogConfig c) {
        LogRing.configure(c.bufferEntries(), c.maxRequestBytes());
        if (!c.enabled()) {
            return null;
        }
        try {
            return new AccessLog(c, FileAppender.open(c.path()));
        } catch (IOException e) {
            throw new IllegalArgumentException("turnpike.access_log.path: cannot open " + c.path() + " for"
                    + " appending: " + e, e);
        }
    }

    /** Adds this log's observer to every loop (after the observers already installed). */
    public void install(List<LoopContext> loops) {
        for (LoopContext ctx : loops) {
            ExchangeObserver[] was = ctx.observers();
            ExchangeObserver[] now = Arrays.copyOf(was, was.length + 1);
            now[was.length] = observer();
            ctx.observers(now);
        }
    }

    /** A new observer for one loop (confined to it). */
    public ExchangeObserver observer() {
        return new ExchangeObserver() {
            private LogRing ring;

            @Override
            public void onRequest(ExchangeRecord record, ByteBuf src, RequestHead head) {
                if (head != null) {
                    record.request.copy(src, head, maxHeadBytes);
                }
            }

            @Override
            public void onComplete(ExchangeRecord record) {
                LogRing r = ring;
                if (r == null) {
                    r = ring = LogRing.current();
                }
                r.publish(AccessLog.this, record);
            }
        };
    }

    @Override
    public void write(LogSlot slot) {
        out.reset();
        formatter.render(slot, out);
        file.append(out.b, 0, out.n);
    }

    @Override
    public void flush(long nowMs) {
        file.flush(nowMs);
    }

    @Override
    public String toString() {
        return "access log " + file.path;
    }
}
