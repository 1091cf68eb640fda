package io.turnpike.engine.trace;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real OTLP/HTTP receiver for tests: an HTTP server on 127.0.0.1 (port 0) accepting {@code POST /v1/traces} with a
 * protobuf {@code ExportTraceServiceRequest}, decoding it with the OTLP protobuf classes and keeping every span with
 * its resource. Answers 200 with an empty {@code ExportTraceServiceResponse}, or a status set by the test.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** A received span with the resource attributes it came with and the request's headers. */
    public record Received(Span span, Resource resource, Map<String, List<String>> headers) {
        public String traceId() {
            return HexFormat.of().formatHex(span.getTraceId().toByteArray());
        }

        public String spanId() {
            return HexFormat.of().formatHex(span.getSpanId().toByteArray());
        }

        public String parentSpanId() {
            return HexFormat.of().formatHex(span.getParentSpanId().toByteArray());
        }

        public AnyValue attr(String key) {
            for (KeyValue kv : span.getAttributesList()) {
                if (kv.getKey().equals(key)) {
                    return kv.getValue();
                }
            }
            return null;
        }

        public AnyValue resourceAttr(String key) {
            for (KeyValue kv : resource.getAttributesList()) {
                if (kv.getKey().equals(key)) {
                    return kv.getValue();
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    public final List<Received> spans = new CopyOnWriteArrayList<>();
    public final AtomicInteger posts = new AtomicInteger();
    public final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private final Map<String, Received> byTrace = new ConcurrentHashMap<>();

    public OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/v1/traces", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                byte[] body = in.readAllBytes();
                posts.incrementAndGet();
                contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
                int st = status;
                if (st == 200) {
                    ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(body);
                    for (ResourceSpans rs : req.getResourceSpansList()) {
                        for (ScopeSpans ss : rs.getScopeSpansList()) {
                            for (Span s : ss.getSpansList()) {
                                Received r = new Received(s, rs.getResource(), Map.copyOf(ex.getRequestHeaders()));
                                spans.add(r);
                                byTrace.put(r.traceId(), r);
                            }
                        }
                    }
                }
                byte[] out = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                ex.sendResponseHeaders(st, out.length == 0 ? -1 : out.length);
                if (out.length > 0) {
                    ex.getResponseBody().write(out);
                }
            } finally {
                ex.close();
            }
        });
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The status the next exports get (200 accepts and records them). */
    public void status(int s) {
        this.status = s;
    }

    /** Waits (bounded) for a span of {@code traceId}; null when none came. */
    public Received awaitTrace(String traceId, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < end) {
            Received r = byTrace.get(traceId);
            if (r != null) {
                return r;
            }
            Thread.sleep(10);
        }
        return byTrace.get(traceId);
    }

    /** All spans of {@code traceId} received so far. */
    public List<Received> ofTrace(String traceId) {
        List<Received> out = new ArrayList<>();
        for (Received r : spans) {
            if (r.traceId().equals(traceId)) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
