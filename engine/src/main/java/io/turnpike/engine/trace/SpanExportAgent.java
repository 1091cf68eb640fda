package io.turnpike.engine.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.turnpike.config.process.OpenTelemetryAttr;
import io.turnpike.engine.router.CompiledRoute;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The one span exporter of the process: a thread ({@code turnpike-otel-exporter}) that collects finished spans from
 * every event loop's {@link SpanRing} every {@code inactive_timeout} (or at once when a ring is three quarters full
 * and {@code drop_on_queue_full} is false), converts them to {@link SpanData}, and sends batches of
 * {@code max_export_batch_size} (or whatever waited {@code batch_timeout}) with OpenTelemetry's
 * {@link OtlpHttpSpanExporter} (OTLP/HTTP protobuf, JDK HttpClient, no retries: a failed batch is counted and
 * dropped). One export in flight at a time, each bounded by {@code collector.request_timeout}.
 *
 * <p>Memory is bounded whatever the collector does: the rings hold {@code max_queue_size} preallocated slots per loop,
 * and the exporter holds at most {@code max_queue_size} converted spans; while that is full it stops draining the
 * rings, which fill, and the loops drop (and count) further spans.
 *
 * <p>Installed per process ({@link #configure} at start-up, started by the first compiled opentelemetry plugin); the
 * loops find it through {@link #current()}. One gateway per process: configuring a second one replaces the first's
 * exporter. Thread roles: {@link #ring}
 * is called by a loop once (registration), everything else by the exporter thread or the owner that starts and closes
 * it.
 */
public final class SpanExportAgent implements AutoCloseable {
    private static volatile SpanExportAgent current;
    /** Spans finished while no exporter was installed (a gateway without one, e.g. a benchmark). */
    private static final AtomicLong UNEXPORTED = new AtomicLong();

    private final OpenTelemetryAttr attr;
    private final SpanExporter exporter;
    private final Resource resource;
    private final InstrumentationScopeInfo scope = InstrumentationScopeInfo.create("turnpike");
    private final CopyOnWriteArrayList<SpanRing> rings = new CopyOnWriteArrayList<>();
    private final Thread thread;
    final boolean dropOnQueueFull;
    /** {@code trace_id_source: x-request-id}. */
    public final boolean traceIdFromRequestId;
    /** Set by a loop whose ring is filling up: collect now. */
    volatile boolean urgent;
    private volatile boolean running = true;
    private final long epochBaseNanos;
    private final long nanoBase;

    private final AtomicLong exported = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong exports = new AtomicLong();
    private final AtomicLong failedExports = new AtomicLong();

    private SpanExportAgent(OpenTelemetryAttr attr) {
        this.attr = attr;
        this.dropOnQueueFull = attr.dropOnQueueFull();
        this.traceIdFromRequestId = "x-request-id".equals(attr.traceIdSource());
        OtlpHttpSpanExporterBuilder b = OtlpHttpSpanExporter.builder()
                .setEndpoint(attr.tracesEndpoint())
                .setTimeout(Duration.ofSeconds(attr.requestTimeoutSec()))
                .setConnectTimeout(Duration.ofSeconds(attr.requestTimeoutSec()))
                .setRetryPolicy(null);
        for (Map.Entry<String, String> h : attr.requestHeaders().entrySet()) {
            b.addHeader(h.getKey(), h.getValue());
        }
        this.exporter = b.build();
        AttributesBuilder rb = Attributes.builder();
        rb.put("hostname", hostname());
        for (Map.Entry<String, Object> e : attr.resource().entrySet()) {
            Object v = e.getValue();
            if (v instanceof Boolean) {
                rb.put(e.getKey(), (Boolean) v);
            } else if (v instanceof Number) {
                rb.put(e.getKey(), ((Number) v).doubleValue());
            } else {
                rb.put(e.getKey(), String.valueOf(v));
            }
        }
        this.resource = Resource.create(rb.build());
        java.time.Instant now = java.time.Instant.now();
        this.nanoBase = System.nanoTime();
        this.epochBaseNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        this.thread = new Thread(this::run, "turnpike-otel-exporter");
        this.thread.setDaemon(true);
        this.thread.setPriority(Thread.MIN_PRIORITY);
    }

    /** The process's {@code plugin_attr.opentelemetry}, set at start-up; the exporter starts on first use. */
    private static OpenTelemetryAttr configured;

    /**
     * Sets where spans go (at start-up, before the first snapshot is compiled); an exporter of an earlier
     * configuration is closed. The thread starts only when a configuration uses the plugin ({@link #ensureStarted}).
     */
    public static synchronized void configure(OpenTelemetryAttr attr) {
        SpanExportAgent old = current;
        if (old != null) {
            old.close();
        }
        configured = attr;
    }

    /** Starts the exporter of the configured {@code plugin_attr} unless it runs (the plugin's compiler calls it). */
    public static synchronized void ensureStarted() {
        if (current == null && configured != null) {
            start(configured);
        }
    }

    /** Stops the exporter of {@code attr} (a gateway closing), sending what it collected. */
    public static synchronized void shutdown(OpenTelemetryAttr attr) {
        if (configured == attr) {
            configured = null;
            SpanExportAgent a = current;
            if (a != null) {
                a.close();
            }
        }
    }

    /** Starts the process's exporter (closing the one installed before, if any). */
    public static synchronized SpanExportAgent start(OpenTelemetryAttr attr) {
        SpanExportAgent old = current;
        if (old != null) {
            old.close();
        }
        SpanExportAgent a = new SpanExportAgent(attr);
        a.thread.start();
        current = a;
        return a;
    }

    /** The installed exporter, or null. */
    public static SpanExportAgent current() {
        return current;
    }

    /** Counts a span finished while no exporter is installed. */
    public static void unexported() {
        UNEXPORTED.incrementAndGet();
    }

    public static long unexportedCount() {
        return UNEXPORTED.get();
    }

    /** Called once per loop (not on the request path's steady state): this loop's ring. */
    public SpanRing ring() {
        SpanRing r = new SpanRing(this, attr.maxQueueSize());
        rings.add(r);
        return r;
    }

    public OpenTelemetryAttr attr() {
        return attr;
    }

    /** Spans accepted by the collector. */
    public long exportedSpans() {
        return exported.get();
    }

    /** Spans in batches the collector refused or that could not be sent (collector down, timeout). */
    public long failedSpans() {
        return failed.get();
    }

    /** Export calls made, and those that failed. */
    public long exportCalls() {
        return exports.get();
    }

    public long failedExportCalls() {
        return failedExports.get();
    }

    /** Spans the loops dropped because their ring was full. */
    public long droppedSpans() {
        long n = 0;
        for (SpanRing r : rings) {
            n += r.dropped();
        }
        return n;
    }

    /** The status JSON object: {@code {"exported":..,"failed":..,"dropped":..,"exports":..,"failed_exports":..}}. */
    public String statusJson() {
        return "{\"endpoint\":\"" + attr.tracesEndpoint().replace("\"", "\\\"") + "\",\"exported\":" + exportedSpans()
                + ",\"failed\":" + failedSpans() + ",\"dropped\":" + droppedSpans() + ",\"exports\":" + exportCalls()
                + ",\"failed_exports\":" + failedExportCalls() + "}";
    }

    // ---------------------------------------------------------------- the exporter thread

    private void run() {
        long inactiveNs = (long) (attr.inactiveTimeoutSec() * 1e9);
        long batchTimeoutNs = (long) (attr.batchTimeoutSec() * 1e9);
        int maxBatch = attr.maxExportBatchSize();
        int maxPending = Math.max(maxBatch, attr.maxQueueSize());
        List<SpanData> pending = new ArrayList<>();
        long oldestNs = 0;
        long nextCollectNs = System.nanoTime() + inactiveNs;
        while (running) {
            LockSupport.parkNanos(10_000_000L);
            long now = System.nanoTime();
            if (urgent || now - nextCollectNs >= 0) {
                urgent = false;
                nextCollectNs = now + inactiveNs;
                int before = pending.size();
                collect(pending, maxPending);
                if (before == 0 && !pending.isEmpty()) {
                    oldestNs = now;
                }
            }
            while (pending.size() >= maxBatch && running) {
                export(pending, maxBatch);
                oldestNs = System.nanoTime();
            }
            if (!pending.isEmpty() && now - oldestNs >= batchTimeoutNs) {
                export(pending, pending.size());
            }
        }
        // Closing: what is already collected and what the rings hold goes out once more.
        collect(pending, Integer.MAX_VALUE);
        while (!pending.isEmpty()) {
            if (!export(pending, Math.min(maxBatch, pending.size()))) {
                failed.addAndGet(pending.size()); // the collector is not answering: do not hold the shutdown
                pending.clear();
            }
        }
    }

    private void collect(List<SpanData> pending, int maxPending) {
        for (SpanRing r : rings) {
            SpanSlot s;
            while (pending.size() < maxPending && (s = r.poll()) != null) {
                pending.add(convert(s));
                r.recycle(s);
            }
        }
    }

    /** Sends the first {@code n} pending spans and removes them, whatever the outcome. */
    private boolean export(List<SpanData> pending, int n) {
        List<SpanData> batch = new ArrayList<>(pending.subList(0, n));
        pending.subList(0, n).clear();
        exports.incrementAndGet();
        boolean ok;
        try {
            CompletableResultCode r = exporter.export(batch);
            r.join(attr.requestTimeoutSec() + 5L, TimeUnit.SECONDS);
            ok = r.isDone() && r.isSuccess();
        } catch (RuntimeException e) {
            ok = false;
        }
        if (ok) {
            exported.addAndGet(batch.size());
        } else {
            failed.addAndGet(batch.size());
            failedExports.incrementAndGet();
        }
        return ok;
    }

    private SpanData convert(SpanSlot s) {
        String traceId = hex(s.traceHi) + hex(s.traceLo);
        SpanContext ctx = SpanContext.create(traceId, hex(s.spanId), TraceFlags.getSampled(), TraceState.getDefault());
        SpanContext parent = s.parentSpanId == 0 ? SpanContext.getInvalid()
                : SpanContext.createFromRemoteParent(traceId, hex(s.parentSpanId),
                s.parentSampled ? TraceFlags.getSampled() : TraceFlags.getDefault(), TraceState.getDefault());
        String method = new String(s.method, 0, s.methodLength, StandardCharsets.US_ASCII);
        CompiledRoute route = s.route;
        String path = route != null && route.uris().size() == 1 ? route.uris().get(0) : null;
        AttributesBuilder a = Attributes.builder()
                .put("net.host.name", new String(s.host, 0, s.hostLength, StandardCharsets.ISO_8859_1))
                .put("http.method", method)
                .put("http.scheme", s.https ? "https" : "http")
                .put("http.target", new String(s.target, 0, s.targetLength, StandardCharsets.ISO_8859_1));
        if (s.userAgentLength >= 0) {
            a.put("http.user_agent", new String(s.userAgent, 0, s.userAgentLength, StandardCharsets.ISO_8859_1));
        }
        if (route != null) {
            a.put("apisix.route_id", route.id);
            if (route.name != null) {
                a.put("apisix.route_name", route.name);
            }
            if (path != null) {
                a.put("http.route", path);
            }
            if (route.serviceId != null) {
                a.put("apisix.service_id", route.serviceId);
            }
        }
        int code = s.upstreamStatus != 0 ? s.upstreamStatus : s.status;
        if (code != 0) {
            a.put(AttributeKey.longKey("http.status_code"), code);
            a.put(AttributeKey.longKey("http.response.status_code"), code);
        }
        StatusData status = code >= 500 ? StatusData.create(StatusCode.ERROR, "upstream response status: " + code)
                : s.aborted && code == 0 ? StatusData.create(StatusCode.ERROR, "client closed the connection")
                : StatusData.unset();
        long end = s.endNs != 0 ? s.endNs : s.startNs;
        return new RecordedSpan(path != null ? method + " " + path : method, ctx, parent, status, epoch(s.startNs),
                epoch(end), a.build(), resource, scope);
    }

    private long epoch(long nanoTime) {
        return epochBaseNanos + (nanoTime - nanoBase);
    }

    private static String hex(long v) {
        byte[] b = new byte[16];
        TraceContext.writeHex(b, 0, v);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** Stops the thread after sending what was collected (bounded by the collector's timeout), then the exporter. */
    @Override
    public void close() {
        synchronized (SpanExportAgent.class) {
            if (current == this) {
                current = null;
            }
        }
        if (!running) {
            return;
        }
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(attr.requestTimeoutSec() + 10L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exporter.shutdown().join(attr.requestTimeoutSec(), TimeUnit.SECONDS);
    }
}
