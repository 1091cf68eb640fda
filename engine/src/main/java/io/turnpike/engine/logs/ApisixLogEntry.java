package io.turnpike.engine.logs;

import io.turnpike.engine.Version;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * APISIX's default log entry ({@code log-util.get_full_log}) as one JSON object, for file-logger and http-logger:
 * {@code client_ip}, {@code route_id}, {@code consumer.username}, {@code request {method, uri, url, headers,
 * querystring, size}}, {@code response {status, size}}, {@code server {hostname, version}}, {@code upstream},
 * {@code start_time}, {@code latency}, {@code upstream_latency}, {@code apisix_latency}. Not written: {@code
 * service_id} and {@code response.headers} (not kept by the loop), request and response bodies (refused in the
 * plugins' configuration). Built on the log writer thread only.
 */
final class ApisixLogEntry {
    private static final String HOSTNAME = hostname();
    private final HeadView head = new HeadView();

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "localhost";
        }
    }

    /** Appends the JSON object of {@code s} (no newline) to {@code out}. */
    void render(LogSlot s, Out out) {
        HeadView h = head;
        boolean hasHead = h.parse(s);
        out.ascii("{\"client_ip\":\"").jsonEscaped(s.clientIp, 0, s.clientIpLength).ch('"');
        if (s.routeId != null) {
            out.ascii(",\"route_id\":\"").jsonEscaped(s.routeId).ch('"');
        }
        if (s.consumer != null) {
            out.ascii(",\"consumer\":{\"username\":\"").jsonEscaped(s.consumer).ascii("\"}");
        }
        out.ascii(",\"request\":{");
        if (hasHead) {
            out.ascii("\"method\":\"").jsonEscaped(h.b, h.methodStart, h.methodEnd - h.methodStart)
                    .ascii("\",\"uri\":\"").jsonEscaped(h.b, h.targetStart, h.targetEnd - h.targetStart)
                    .ascii("\",\"url\":\"").ascii(s.https ? "https://" : "http://");
            int host = h.header(HOST);
            if (host >= 0) {
                out.jsonEscaped(h.b, h.valueStart[host], h.valueEnd[host] - h.valueStart[host]);
            }
            out.jsonEscaped(h.b, h.targetStart, h.targetEnd - h.targetStart).ascii("\",\"headers\":{");
            headers(h, out);
            out.ascii("},\"querystring\":{");
            query(h, out);
            out.ascii("},");
        }
        out.ascii("\"size\":").num(s.requestBytes).ch('}');
        out.ascii(",\"response\":{\"status\":").num(AccessLogFormatter.status(s)).ascii(",\"size\":")
                .num(s.responseBytes).ch('}');
        out.ascii(",\"server\":{\"hostname\":\"").jsonEscaped(HOSTNAME).ascii("\",\"version\":\"")
                .jsonEscaped(Version.VERSION).ascii("\"}");
        if (s.upstreamAddr != null) {
            out.ascii(",\"upstream\":\"").jsonEscaped(s.upstreamAddr).ch('"');
        }
        out.ascii(",\"start_time\":").num(s.startEpochMs);
        out.ascii(",\"latency\":").ascii(ms(s.requestTimeNs));
        if (s.upstreamTimeNs >= 0) {
            out.ascii(",\"upstream_latency\":").num(s.upstreamTimeNs / 1_000_000);
            out.ascii(",\"apisix_latency\":").ascii(ms(Math.max(0, s.requestTimeNs - s.upstreamTimeNs)));
        } else {
            out.ascii(",\"apisix_latency\":").ascii(ms(s.requestTimeNs));
        }
        if (s.hasTraceId) {
            out.ascii(",\"trace_id\":\"");
            for (byte x : s.traceId) {
                out.ch(Character.forDigit((x >> 4) & 15, 16)).ch(Character.forDigit(x & 15, 16));
            }
            out.ch('"');
        }
        out.ch('}');
    }

    private static String ms(long nanos) {
        return Double.toString(nanos / 1_000_000.0);
    }

    private static final byte[] HOST = "host".getBytes(StandardCharsets.US_ASCII);

    /** Header names in lower case (as ngx.req.get_headers); a repeated name gives an array of its values. */
    private static void headers(HeadView h, Out out) {
        boolean first = true;
        for (int i = 0; i < h.headers; i++) {
            if (seenBefore(h, i)) {
                continue;
            }
            if (!first) {
                out.ch(',');
            }
            first = false;
            out.ch('"');
            for (int k = h.nameStart[i]; k < h.nameEnd[i]; k++) {
                int c = h.b[k];
                out.ch((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
            }
            out.ascii("\":");
            int count = 0;
            for (int j = i; j < h.headers; j++) {
                if (sameName(h, i, j)) {
                    count++;
                }
            }
            if (count > 1) {
                out.ch('[');
            }
            boolean firstValue = true;
            for (int j = i; j < h.headers; j++) {
                if (sameName(h, i, j)) {
                    if (!firstValue) {
                        out.ch(',');
                    }
                    firstValue = false;
                    out.ch('"').jsonEscaped(h.b, h.valueStart[j], h.valueEnd[j] - h.valueStart[j]).ch('"');
                }
            }
            if (count > 1) {
                out.ch(']');
            }
        }
    }

    private static boolean seenBefore(HeadView h, int i) {
        for (int j = 0; j < i; j++) {
            if (sameName(h, i, j)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameName(HeadView h, int a, int b) {
        int la = h.nameEnd[a] - h.nameStart[a];
        if (la != h.nameEnd[b] - h.nameStart[b]) {
            return false;
        }
        for (int k = 0; k < la; k++) {
            int x = h.b[h.nameStart[a] + k] | 0x20;
            int y = h.b[h.nameStart[b] + k] | 0x20;
            if (x != y) {
                return false;
            }
        }
        return true;
    }

    /** The query's arguments, percent-decoded (as ngx.req.get_uri_args); an argument without '=' is true. */
    private static void query(HeadView h, Out out) {
        if (h.pathEnd >= h.targetEnd) {
            return;
        }
        String q = h.string(h.pathEnd + 1, h.targetEnd);
        boolean first = true;
        java.util.LinkedHashMap<String, java.util.List<String>> args = new java.util.LinkedHashMap<>();
        for (String pair : q.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? null : decode(pair.substring(eq + 1));
            args.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v);
        }
        for (var e : args.entrySet()) {
            if (!first) {
                out.ch(',');
            }
            first = false;
            out.ch('"').jsonEscaped(e.getKey()).ascii("\":");
            java.util.List<String> vs = e.getValue();
            if (vs.size() > 1) {
                out.ch('[');
            }
            for (int i = 0; i < vs.size(); i++) {
                if (i > 0) {
                    out.ch(',');
                }
                String v = vs.get(i);
                if (v == null) {
                    out.ascii("true");
                } else {
                    out.ch('"').jsonEscaped(v).ch('"');
                }
            }
            if (vs.size() > 1) {
                out.ch(']');
            }
        }
    }

    private static String decode(String s) {
        try {
            return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
