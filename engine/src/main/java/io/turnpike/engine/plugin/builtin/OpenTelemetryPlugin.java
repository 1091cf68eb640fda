package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.observe.ExchangeRecord;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.trace.Sampler;
import io.turnpike.engine.trace.SpanExportAgent;
import io.turnpike.engine.trace.SpanRing;
import io.turnpike.engine.trace.SpanSlot;
import io.turnpike.engine.trace.TraceContext;

import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * APISIX {@code opentelemetry} (priority 12009): a server span per request, W3C trace context in and out.
 *
 * <p>Rewrite phase, on the loop, without allocating: reads the client's {@code traceparent} (a valid one makes the
 * span its child), else starts a trace (its id from a 32-hex {@code X-Request-Id} with {@code trace_id_source:
 * x-request-id}, else random); draws the span id; asks the {@link Sampler}; sends {@code traceparent:
 * 00-<trace>-<span>-<01|00>} upstream (written in the exchange's scratch, one header edit); sets the exchange record's
 * trace id (the access log's {@code $trace_id}). A sampled span's request facts (method, host, target, user agent) are
 * copied into the scratch, because the request head is released after the request phases.
 *
 * <p>Log phase: a sampled span takes a slot of this loop's {@link SpanRing}, gets its times and statuses from the
 * {@link ExchangeRecord}, and goes to the exporter thread ({@link SpanExportAgent}); a full ring drops it (counted).
 * Unsampled requests cost the ids and the header only.
 */
public final class OpenTelemetryPlugin extends PluginSpec {
    static final String NAME = "opentelemetry";
    static final int PRIORITY = 12009;
    private static final byte[] TRACEPARENT = Bytes.ascii("traceparent");
    private static final byte[] X_REQUEST_ID = Bytes.ascii("x-request-id");
    private static final byte[] USER_AGENT = Bytes.ascii("user-agent");
    /** Span block header in the scratch: trace hi, lo, span, parent span (4 longs), parent sampled, 4 lengths. */
    private static final int BLOCK_HEADER = 32 + 1 + 1 + 2 + 2 + 2;

    /** Per loop (event loops are fixed threads): a parse target and the loop's ring of the current exporter. */
    private static final FastThreadLocal<LoopState> STATE = new FastThreadLocal<>() {
        @Override
        protected LoopState initialValue() {
            return new LoopState();
        }
    };

    private static final class LoopState {
        final TraceContext.Parent parent = new TraceContext.Parent();
        SpanRing ring;
    }

    private final Sampler sampler;

    OpenTelemetryPlugin(Sampler sampler) {
        super(NAME, PRIORITY);
        this.sampler = sampler;
    }

    public Sampler sampler() {
        return sampler;
    }

    @Override
    public int phases() {
        return PHASE_REWRITE | PHASE_LOG;
    }

    @Override
    public int maxHeaderEdits() {
        return 1;
    }

    @Override
    public int rewrite(PluginContext x) {
        ExchangeRecord rec = x.record();
        if (rec != null && rec.hasTraceId) {
            return CONTINUE; // the plugin in the global rules and the route: the first one traces the request
        }
        RequestHead h = x.head();
        ByteBuf src = x.source();
        TraceContext.Parent p = STATE.get().parent;
        int i = x.header(TRACEPARENT);
        boolean hasParent = i >= 0 && TraceContext.parse(src, h.valueStart[i], h.valueEnd[i], p);
        long hi;
        long lo;
        long parentSpan = 0;
        boolean parentSampled = false;
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        if (hasParent) {
            hi = p.traceHi;
            lo = p.traceLo;
            parentSpan = p.spanId;
            parentSampled = p.sampled;
        } else {
            int r = traceIdFromRequestId() ? x.header(X_REQUEST_ID) : -1;
            if (r >= 0 && TraceContext.parseTraceId(src, h.valueStart[r], h.valueEnd[r], p)) {
                hi = p.traceHi;
                lo = p.traceLo;
            } else {
                do {
                    hi = rnd.nextLong();
                    lo = rnd.nextLong();
                } while (hi == 0 && lo == 0);
            }
        }
        long span;
        do {
            span = rnd.nextLong();
        } while (span == 0);
        boolean sampled = sampler.sample(lo, hasParent, parentSampled);
        int at = x.scratch(TraceContext.TRACEPARENT_LENGTH);
        if (at < 0) {
            return CONTINUE;
        }
        byte[] s = x.scratchBytes();
        TraceContext.write(s, at, hi, lo, span, sampled);
        x.requestEdits.set(TRACEPARENT, TRACEPARENT, s, at, TraceContext.TRACEPARENT_LENGTH);
        if (rec != null) {
            TraceContext.traceIdBytes(rec.traceId, hi, lo);
            rec.hasTraceId = true;
        }
        if (sampled) {
            keepForLog(x, h, src, hi, lo, span, parentSpan, parentSampled);
        }
        return CONTINUE;
    }

    private static boolean traceIdFromRequestId() {
        SpanExportAgent a = SpanExportAgent.current();
        return a == null || a.traceIdFromRequestId;
    }

    /** Copies what the log phase needs of the request into the scratch (the head is gone by then). */
    private static void keepForLog(PluginContext x, RequestHead h, ByteBuf src, long hi, long lo, long span,
                                   long parentSpan, boolean parentSampled) {
        int methodLen = Math.min(SpanSlot.MAX_METHOD, h.methodEnd - h.methodStart);
        int hostStart = 0;
        int hostLen = 0;
        if (h.hostIndex >= 0) {
            hostStart = h.valueStart[h.hostIndex];
            hostLen = hostWithoutPort(src, hostStart, h.valueEnd[h.hostIndex]);
            hostLen = Math.min(SpanSlot.MAX_HOST, hostLen);
        }
        int targetLen = Math.min(SpanSlot.MAX_TARGET, h.targetEnd - h.targetStart);
        int ua = x.header(USER_AGENT);
        int uaLen = ua < 0 ? 0 : Math.min(SpanSlot.MAX_USER_AGENT, h.valueEnd[ua] - h.valueStart[ua]);
        int at = x.scratch(BLOCK_HEADER + methodLen + hostLen + targetLen + uaLen);
        if (at < 0) {
            return;
        }
        byte[] b = x.scratchBytes();
        putLong(b, at, hi);
        putLong(b, at + 8, lo);
        putLong(b, at + 16, span);
        putLong(b, at + 24, parentSpan);
        b[at + 32] = (byte) (parentSampled ? 1 : 0);
        b[at + 33] = (byte) methodLen;
        putShort(b, at + 34, hostLen);
        putShort(b, at + 36, targetLen);
        putShort(b, at + 38, ua < 0 ? 0xFFFF : uaLen);
        int o = at + BLOCK_HEADER;
        src.getBytes(h.methodStart, b, o, methodLen);
        o += methodLen;
        for (int k = 0; k < hostLen; k++) {
            byte c = src.getByte(hostStart + k);
            b[o + k] = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c; // nginx's $host is lower case
        }
        o += hostLen;
        src.getBytes(h.targetStart, b, o, targetLen);
        o += targetLen;
        if (ua >= 0) {
            src.getBytes(h.valueStart[ua], b, o, uaLen);
        }
        x.span(b, at);
    }

    /** The length of the host part of a Host value: without {@code :port} (an IPv6 literal keeps its brackets). */
    private static int hostWithoutPort(ByteBuf src, int start, int end) {
        for (int k = end - 1; k > start; k--) {
            byte c = src.getByte(k);
            if (c == ':') {
                return k - start;
            }
            if (c == ']' || c < '0' || c > '9') {
                break;
            }
        }
        return end - start;
    }

    @Override
    public void log(PluginContext x) {
        int at = x.spanAt();
        if (at < 0) {
            return;
        }
        LoopState st = STATE.get();
        SpanExportAgent agent = SpanExportAgent.current();
        if (agent == null) {
            SpanExportAgent.unexported();
            return;
        }
        SpanRing ring = st.ring;
        if (ring == null || ring.owner() != agent) {
            ring = agent.ring(); // once per loop and exporter
            st.ring = ring;
        }
        SpanSlot s = ring.take();
        if (s == null) {
            ring.drop();
            return;
        }
        byte[] b = x.spanBytes();
        s.traceHi = getLong(b, at);
        s.traceLo = getLong(b, at + 8);
        s.spanId = getLong(b, at + 16);
        s.parentSpanId = getLong(b, at + 24);
        s.parentSampled = b[at + 32] != 0;
        s.methodLength = b[at + 33];
        s.hostLength = getShort(b, at + 34);
        s.targetLength = getShort(b, at + 36);
        int ua = getShort(b, at + 38);
        int o = at + BLOCK_HEADER;
        System.arraycopy(b, o, s.method, 0, s.methodLength);
        o += s.methodLength;
        System.arraycopy(b, o, s.host, 0, s.hostLength);
        o += s.hostLength;
        System.arraycopy(b, o, s.target, 0, s.targetLength);
        o += s.targetLength;
        if (ua == 0xFFFF) {
            s.userAgentLength = -1;
        } else {
            System.arraycopy(b, o, s.userAgent, 0, ua);
            s.userAgentLength = ua;
        }
        ExchangeRecord r = x.record();
        s.startNs = r.startNs;
        s.endNs = r.endNs;
        s.status = r.status;
        s.upstreamStatus = r.upstreamStatus;
        s.https = r.https;
        s.aborted = r.aborted;
        s.route = r.route;
        ring.publish(s);
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[at + i] & 0xFF);
        }
        return v;
    }

    private static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static int getShort(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return PRIORITY;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("sampler", "_meta"));
            JsonNode s = c.get("sampler");
            SpanExportAgent.ensureStarted();
            return new OpenTelemetryPlugin(s == null || s.isNull() ? Sampler.alwaysOff() : sampler(s, true));
        }

        private static Sampler sampler(JsonNode s, boolean top) {
            String name = s.path("name").asText("always_off");
            JsonNode o = s.path("options");
            double fraction = o.path("fraction").asDouble(0);
            switch (name) {
                case "always_on":
                    return Sampler.alwaysOn();
                case "always_off":
                    return Sampler.alwaysOff();
                case "trace_id_ratio":
                    return Sampler.traceIdRatio(fraction);
                case "parent_base":
                    if (!top) {
                        break;
                    }
                    JsonNode root = o.get("root");
                    return Sampler.parentBase(root == null || root.isNull() ? Sampler.alwaysOff()
                            : sampler(root, false));
                default:
                    break;
            }
            throw new IllegalArgumentException(NAME + ": sampler \"" + name + "\" is not supported");
        }
    }
}
