package io.turnpike.engine.logs;

import io.turnpike.config.process.AccessLogFormat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Renders {@link LogSlot}s with an access log format ({@code $variables}, nginx/APISIX names). Compiled once from the
 * checked {@link AccessLogFormat}; {@link #render} runs on the log writer thread only (it keeps a per-second cache
 * of the formatted times and a reusable head view).
 */
final class AccessLogFormatter {
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx", Locale.ENGLISH);

    private final Object[] parts; // byte[] literal, or Var
    private final boolean json;
    private final ZoneId zone = ZoneId.systemDefault();
    private final HeadView head = new HeadView();
    private long cachedSecond = Long.MIN_VALUE;
    private String cachedLocal;
    private String cachedIso;

    private record Var(String name, byte[] header) {
    }

    AccessLogFormatter(AccessLogFormat format, boolean json) {
        List<AccessLogFormat.Part> ps = format.parts();
        parts = new Object[ps.size()];
        for (int i = 0; i < parts.length; i++) {
            AccessLogFormat.Part p = ps.get(i);
            if (!p.variable()) {
                parts[i] = p.text().getBytes(StandardCharsets.UTF_8);
            } else if (p.text().startsWith("http_")) {
                parts[i] = new Var("http_", p.text().substring(5).replace('_', '-').toLowerCase(Locale.ROOT)
                        .getBytes(StandardCharsets.US_ASCII));
            } else {
                parts[i] = new Var(p.text().intern(), null);
            }
        }
        this.json = json;
    }

    /** Appends one line (with its newline) for {@code s} to {@code out}. */
    void render(LogSlot s, Out out) {
        boolean hasHead = head.parse(s);
        for (Object p : parts) {
            if (p instanceof byte[] lit) {
                out.bytes(lit, 0, lit.length);
            } else {
                variable((Var) p, s, hasHead, out);
            }
        }
        out.ch('\n');
    }

    private void text(Out out, byte[] b, int off, int len) {
        if (len <= 0) {
            out.ch('-');
        } else if (json) {
            out.jsonEscaped(b, off, len);
        } else {
            out.nginxEscaped(b, off, len);
        }
    }

    private void text(Out out, String s) {
        if (s == null || s.isEmpty()) {
            out.ch('-');
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        text(out, b, 0, b.length);
    }

    private void variable(Var v, LogSlot s, boolean hasHead, Out out) {
        HeadView h = head;
        switch (v.name) {
            case "http_" -> {
                int i = hasHead ? h.header(v.header) : -1;
                if (i < 0) {
                    out.ch('-');
                } else {
                    text(out, h.b, h.valueStart[i], h.valueEnd[i] - h.valueStart[i]);
                }
            }
            case "remote_addr" -> text(out, s.clientIp, 0, s.clientIpLength);
            case "remote_user" -> text(out, hasHead ? basicUser(h) : null);
            case "time_local" -> {
                times(s.startEpochMs + s.requestTimeNs / 1_000_000);
                out.ascii(cachedLocal);
            }
            case "time_iso8601" -> {
                times(s.startEpochMs + s.requestTimeNs / 1_000_000);
                out.ascii(cachedIso);
            }
            case "msec" -> out.seconds3((s.startEpochMs * 1_000_000L) + s.requestTimeNs);
            case "request" -> text(out, h.b, 0, hasHead ? h.lineEnd : 0);
            case "request_method" -> text(out, h.b, h.methodStart, hasHead ? h.methodEnd - h.methodStart : 0);
            case "request_uri" -> text(out, h.b, h.targetStart, hasHead ? h.targetEnd - h.targetStart : 0);
            case "uri" -> text(out, h.b, h.targetStart, hasHead ? h.pathEnd - h.targetStart : 0);
            case "args", "query_string" -> text(out, h.b, h.pathEnd + 1, hasHead ? h.targetEnd - h.pathEnd - 1 : 0);
            case "server_protocol" -> text(out, h.b, h.protoStart, hasHead ? h.protoEnd - h.protoStart : 0);
            case "scheme" -> out.ascii(s.https ? "https" : "http");
            case "server_port" -> text(out, s.serverPort, 0, s.serverPort == null ? 0 : s.serverPort.length);
            case "host" -> {
                int i = hasHead ? h.header(HOST) : -1;
                if (i < 0) {
                    out.ch('-');
                } else {
                    int end = h.valueEnd[i];
                    int start = h.valueStart[i];
                    int colon = h.b[start] == '[' ? HeadView.indexOf(h.b, start, end, (byte) ']') + 1 : start;
                    int c = HeadView.indexOf(h.b, Math.max(colon, start), end, (byte) ':');
                    String host = h.string(start, c < 0 ? end : c).toLowerCase(Locale.ROOT);
                    text(out, host);
                }
            }
            case "status" -> out.num(status(s));
            case "body_bytes_sent" -> out.num(s.responseBodyBytes);
            case "bytes_sent" -> out.num(s.responseBytes);
            case "request_length" -> out.num(s.requestBytes);
            case "request_time" -> out.seconds3(s.requestTimeNs);
            case "upstream_addr" -> text(out, s.upstreamAddr);
            case "upstream_status" -> {
                if (s.upstreamStatus == 0) {
                    out.ch('-');
                } else {
                    out.num(s.upstreamStatus);
                }
            }
            case "upstream_response_time" -> {
                if (s.upstreamTimeNs < 0) {
                    out.ch('-');
                } else {
                    out.seconds3(s.upstreamTimeNs);
                }
            }
            case "apisix_latency" -> out.seconds3(s.requestTimeNs - Math.max(0, s.upstreamTimeNs));
            case "route_id" -> text(out, s.routeId);
            case "consumer_name" -> text(out, s.consumer);
            case "trace_id" -> {
                if (!s.hasTraceId) {
                    out.ch('-');
                } else {
                    for (byte x : s.traceId) {
                        out.ch(Character.forDigit((x >> 4) & 15, 16)).ch(Character.forDigit(x & 15, 16));
                    }
                }
            }
            default -> out.ch('-'); // the config check refuses unknown names
        }
    }

    /** nginx logs 499 for a client that went away before a response started. */
    static int status(LogSlot s) {
        return s.status == 0 && s.aborted ? 499 : s.status;
    }

    private static final byte[] HOST = "host".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AUTHORIZATION = "authorization".getBytes(StandardCharsets.US_ASCII);

    /** nginx's {@code $remote_user}: the user of a Basic Authorization header. */
    private static String basicUser(HeadView h) {
        int i = h.header(AUTHORIZATION);
        if (i < 0) {
            return null;
        }
        String v = h.string(h.valueStart[i], h.valueEnd[i]);
        if (v.length() < 6 || !v.regionMatches(true, 0, "basic ", 0, 6)) {
            return null;
        }
        try {
            String d = new String(Base64.getDecoder().decode(v.substring(6).trim()), StandardCharsets.UTF_8);
            int c = d.indexOf(':');
            return c < 0 ? null : d.substring(0, c);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void times(long epochMs) {
        long sec = Math.floorDiv(epochMs, 1000);
        if (sec != cachedSecond) {
            ZonedDateTime t = ZonedDateTime.ofInstant(Instant.ofEpochSecond(sec), zone);
            cachedLocal = LOCAL.format(t);
            cachedIso = ISO.format(t);
            cachedSecond = sec;
        }
    }
}
