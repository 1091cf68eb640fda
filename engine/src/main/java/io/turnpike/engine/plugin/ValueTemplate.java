package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A configured value with nginx/APISIX variables ({@code $host}, {@code ${uri}}, {@code $arg_id}, {@code $http_x_user},
 * ...), compiled once into literal pieces and variable references, rendered per request into the exchange's scratch
 * (no allocation). Only request variables are offered, so a template renders in the request phases (rewrite, access).
 *
 * <p>Variables: {@code uri} (the path), {@code request_uri} (path and query), {@code args}/{@code query_string},
 * {@code arg_NAME}, {@code http_NAME} (the header, {@code _} for {@code -}, case-insensitive), {@code host} (the Host
 * header without its port, lower case as received), {@code remote_addr}, {@code scheme}, {@code request_method},
 * {@code consumer_name}, {@code route_id}. An unknown variable is refused when the template is compiled; a variable with no value
 * renders as nothing, as in nginx.
 */
public final class ValueTemplate {
    private static final int LITERAL = 0, URI = 1, REQUEST_URI = 2, ARGS = 3, ARG = 4, HTTP = 5, HOST = 6,
            REMOTE_ADDR = 7, SCHEME = 8, METHOD = 9, CONSUMER = 10, ROUTE_ID = 11;
    private static final byte[] HTTPS = Bytes.ascii("https");
    private static final byte[] HTTP_SCHEME = Bytes.ascii("http");

    private final int[] kinds;
    private final byte[][] data;
    /** The template as configured, when it has no variable: rendered without copying. */
    public final byte[] constant;

    private ValueTemplate(int[] kinds, byte[][] data, byte[] constant) {
        this.kinds = kinds;
        this.data = data;
        this.constant = constant;
    }

    /** @throws IllegalArgumentException naming the field for an unknown variable */
    public static ValueTemplate compile(String field, String text) {
        List<Integer> kinds = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        boolean vars = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 >= text.length()) {
                lit.append(c);
                continue;
            }
            int start;
            int end;
            int next;
            if (text.charAt(i + 1) == '{') {
                start = i + 2;
                end = text.indexOf('}', start);
                if (end < 0) {
                    throw new IllegalArgumentException(field + ": unterminated ${ in \"" + text + "\"");
                }
                next = end + 1;
            } else {
                start = i + 1;
                end = start;
                while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
                    end++;
                }
                next = end;
            }
            if (end == start) {
                lit.append(c);
                continue;
            }
            String name = text.substring(start, end);
            if (lit.length() > 0) {
                kinds.add(LITERAL);
                data.add(lit.toString().getBytes(StandardCharsets.UTF_8));
                lit.setLength(0);
            }
            vars = true;
            switch (name) {
                case "uri" -> add(kinds, data, URI, null);
                case "request_uri" -> add(kinds, data, REQUEST_URI, null);
                case "args", "query_string" -> add(kinds, data, ARGS, null);
                case "host" -> add(kinds, data, HOST, null);
                case "remote_addr" -> add(kinds, data, REMOTE_ADDR, null);
                case "scheme" -> add(kinds, data, SCHEME, null);
                case "request_method" -> add(kinds, data, METHOD, null);
                case "consumer_name" -> add(kinds, data, CONSUMER, null);
                case "route_id" -> add(kinds, data, ROUTE_ID, null);
                default -> {
                    if (name.startsWith("arg_") && name.length() > 4) {
                        add(kinds, data, ARG, Bytes.ascii(name.substring(4)));
                    } else if (name.startsWith("http_") && name.length() > 5) {
                        add(kinds, data, HTTP, Bytes.lower(name.substring(5).replace('_', '-')));
                    } else {
                        throw new IllegalArgumentException(field + ": variable $" + name + " is not supported");
                    }
                }
            }
            i = next - 1;
        }
        if (lit.length() > 0) {
            kinds.add(LITERAL);
            data.add(lit.toString().getBytes(StandardCharsets.UTF_8));
        }
        return new ValueTemplate(kinds.stream().mapToInt(Integer::intValue).toArray(), data.toArray(new byte[0][]),
                vars ? null : text.getBytes(StandardCharsets.UTF_8));
    }

    private static void add(List<Integer> kinds, List<byte[]> data, int kind, byte[] d) {
        kinds.add(kind);
        data.add(d);
    }

    /**
     * Renders into the exchange's scratch (request phases only): {@code offset << 32 | length} in
     * {@link PluginContext#scratchBytes()}, or -1 when the scratch is full.
     */
    public long render(PluginContext x) {
        RequestHead h = x.head();
        ByteBuf src = x.source();
        int n = 0;
        for (int k = 0; k < kinds.length; k++) {
            n += length(x, h, src, k);
        }
        int at = x.scratch(n);
        if (at < 0) {
            return -1;
        }
        byte[] out = x.scratchBytes();
        int w = at;
        for (int k = 0; k < kinds.length; k++) {
            w = write(x, h, src, k, out, w);
        }
        return ((long) at << 32) | n;
    }

    private int length(PluginContext x, RequestHead h, ByteBuf src, int k) {
        switch (kinds[k]) {
            case LITERAL:
                return data[k].length;
            case URI:
                return h.pathEnd - h.targetStart;
            case REQUEST_URI:
                return h.targetEnd - h.targetStart;
            case ARGS:
                return Math.max(0, h.targetEnd - h.pathEnd - 1);
            case ARG:
                return x.queryArg(data[k]) ? x.argEnd - x.argStart : 0;
            case HTTP: {
                int i = x.header(data[k]);
                return i < 0 ? 0 : h.valueEnd[i] - h.valueStart[i];
            }
            case HOST:
                return hostEnd(h, src) - (h.hostIndex < 0 ? 0 : h.valueStart[h.hostIndex]);
            case REMOTE_ADDR:
                return x.clientIp().length;
            case SCHEME:
                return x.https() ? 5 : 4;
            case METHOD:
                return h.methodEnd - h.methodStart;
            case ROUTE_ID: {
                byte[] id = routeId(x);
                return id == null ? 0 : id.length;
            }
            default:
                return x.consumer() == null ? 0 : x.consumer().nameBytes.length;
        }
    }

    private int write(PluginContext x, RequestHead h, ByteBuf src, int k, byte[] out, int w) {
        switch (kinds[k]) {
            case LITERAL:
                System.arraycopy(data[k], 0, out, w, data[k].length);
                return w + data[k].length;
            case URI:
                src.getBytes(h.targetStart, out, w, h.pathEnd - h.targetStart);
                return w + h.pathEnd - h.targetStart;
            case REQUEST_URI:
                src.getBytes(h.targetStart, out, w, h.targetEnd - h.targetStart);
                return w + h.targetEnd - h.targetStart;
            case ARGS: {
                int len = Math.max(0, h.targetEnd - h.pathEnd - 1);
                src.getBytes(h.pathEnd + 1, out, w, len);
                return w + len;
            }
            case ARG:
                if (x.queryArg(data[k])) {
                    src.getBytes(x.argStart, out, w, x.argEnd - x.argStart);
                    return w + x.argEnd - x.argStart;
                }
                return w;
            case HTTP: {
                int i = x.header(data[k]);
                if (i < 0) {
                    return w;
                }
                src.getBytes(h.valueStart[i], out, w, h.valueEnd[i] - h.valueStart[i]);
                return w + h.valueEnd[i] - h.valueStart[i];
            }
            case HOST: {
                if (h.hostIndex < 0) {
                    return w;
                }
                int s = h.valueStart[h.hostIndex];
                int e = hostEnd(h, src);
                src.getBytes(s, out, w, e - s);
                return w + e - s;
            }
            case REMOTE_ADDR:
                System.arraycopy(x.clientIp(), 0, out, w, x.clientIp().length);
                return w + x.clientIp().length;
            case SCHEME: {
                byte[] s = x.https() ? HTTPS : HTTP_SCHEME;
                System.arraycopy(s, 0, out, w, s.length);
                return w + s.length;
            }
            case METHOD:
                src.getBytes(h.methodStart, out, w, h.methodEnd - h.methodStart);
                return w + h.methodEnd - h.methodStart;
            case ROUTE_ID: {
                byte[] id = routeId(x);
                if (id == null) {
                    return w;
                }
                System.arraycopy(id, 0, out, w, id.length);
                return w + id.length;
            }
            default: {
                if (x.consumer() == null) {
                    return w;
                }
                byte[] n = x.consumer().nameBytes;
                System.arraycopy(n, 0, out, w, n.length);
                return w + n.length;
            }
        }
    }

    private static byte[] routeId(PluginContext x) {
        io.turnpike.engine.observe.ExchangeRecord r = x.record();
        return r == null || r.route == null ? null : r.route.idBytes;
    }

    /** End of the Host value without its port ({@code [v6]:port} keeps the brackets). */
    private static int hostEnd(RequestHead h, ByteBuf src) {
        if (h.hostIndex < 0) {
            return 0;
        }
        int s = h.valueStart[h.hostIndex];
        int end = h.valueEnd[h.hostIndex];
        boolean bracket = s < end && src.getByte(s) == '[';
        int i = s;
        while (i < end && (bracket ? src.getByte(i) != ']' : src.getByte(i) != ':')) {
            i++;
        }
        return bracket && i < end ? i + 1 : i;
    }
}
