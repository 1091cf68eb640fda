package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * APISIX {@code redirect}: {@code http_to_https} answers a plain-HTTP request with 301 to
 * {@code https://<host><request uri>}; {@code uri} answers every request with {@code ret_code} (302) to that URI,
 * plus the request's query string with {@code append_query_string}. The Location value is written into the exchange's
 * scratch (no allocation). {@code regex_uri}: pattern/template pairs on the linear-time engine, applied to the request
 * path; no match, no redirect. Variables in {@code uri} are refused.
 */
public final class RedirectPlugin extends PluginSpec {
    static final String NAME = "redirect";
    private static final byte[] N_LOCATION = Bytes.ascii("Location");
    private static final byte[] L_LOCATION = Bytes.lower("Location");
    private static final byte[] HTTPS = Bytes.ascii("https://");

    private final boolean httpToHttps;
    private final byte[] uri;
    private final boolean appendQuery;
    private final LocalReply reply;
    private final UriTemplate regexUri;

    RedirectPlugin(boolean httpToHttps, byte[] uri, UriTemplate regexUri, boolean appendQuery, int code) {
        super(NAME, 900);
        this.regexUri = regexUri;
        this.httpToHttps = httpToHttps;
        this.uri = uri;
        this.appendQuery = appendQuery;
        this.reply = LocalReply.empty(code);
    }

    @Override
    public int phases() {
        return PHASE_REWRITE;
    }

    @Override
    public int maxHeaderEdits() {
        return 1;
    }

    @Override
    public int rewrite(PluginContext x) {
        RequestHead h = x.head();
        ByteBuf src = x.source();
        if (httpToHttps) {
            if (x.https()) {
                return CONTINUE;
            }
            int hostStart = 0;
            int hostEnd = 0;
            if (h.hostIndex >= 0) {
                hostStart = h.valueStart[h.hostIndex];
                hostEnd = hostStart;
                int end = h.valueEnd[h.hostIndex];
                // The host without its port ("[v6]:port" keeps the brackets).
                boolean bracket = hostStart < end && src.getByte(hostStart) == '[';
                while (hostEnd < end && (bracket ? src.getByte(hostEnd) != ']' : src.getByte(hostEnd) != ':')) {
                    hostEnd++;
                }
                if (bracket && hostEnd < end) {
                    hostEnd++;
                }
            }
            int n = HTTPS.length + (hostEnd - hostStart) + (h.targetEnd - h.targetStart);
            int at = x.scratch(n);
            if (at < 0) {
                return CONTINUE;
            }
            byte[] s = x.scratchBytes();
            System.arraycopy(HTTPS, 0, s, at, HTTPS.length);
            src.getBytes(hostStart, s, at + HTTPS.length, hostEnd - hostStart);
            src.getBytes(h.targetStart, s, at + HTTPS.length + (hostEnd - hostStart), h.targetEnd - h.targetStart);
            x.responseEdits.set(L_LOCATION, N_LOCATION, s, at, n);
            return x.reply(reply);
        }
        if (regexUri != null) {
            long r = regexUri.rewrite(x, appendQuery);
            if (r < 0) {
                return CONTINUE; // no pattern matched: no redirect (APISIX)
            }
            x.responseEdits.set(L_LOCATION, N_LOCATION, x.scratchBytes(), (int) (r >>> 32), (int) r);
            return x.reply(reply);
        }
        int query = h.targetEnd - h.pathEnd; // "?..." or 0
        if (!appendQuery || query <= 1) {
            x.responseEdits.set(L_LOCATION, N_LOCATION, uri);
            return x.reply(reply);
        }
        boolean uriHasQuery = false;
        for (byte b : uri) {
            if (b == '?') {
                uriHasQuery = true;
                break;
            }
        }
        int n = uri.length + query;
        int at = x.scratch(n);
        if (at < 0) {
            return CONTINUE;
        }
        byte[] s = x.scratchBytes();
        System.arraycopy(uri, 0, s, at, uri.length);
        src.getBytes(h.pathEnd, s, at + uri.length, query);
        if (uriHasQuery) {
            s[at + uri.length] = '&';
        }
        x.responseEdits.set(L_LOCATION, N_LOCATION, s, at, n);
        return x.reply(reply);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 900;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("http_to_https", "uri", "regex_uri", "ret_code", "append_query_string",
                    "encode_uri", "_meta"));
            if (Conf.bool(c, "encode_uri", false)) {
                throw new IllegalArgumentException(NAME + ": encode_uri is not supported");
            }
            boolean toHttps = Conf.bool(c, "http_to_https", false);
            String uri = Conf.str(c, "uri", null);
            Conf.noVariables(NAME + ".uri", uri);
            UriTemplate regex = c.has("regex_uri")
                    ? UriTemplate.compile(NAME + ".regex_uri", Conf.strings(c, "regex_uri")) : null;
            if ((toHttps ? 1 : 0) + (uri != null ? 1 : 0) + (regex != null ? 1 : 0) != 1) {
                throw new IllegalArgumentException(NAME + ": exactly one of http_to_https, uri and regex_uri is"
                        + " required");
            }
            return new RedirectPlugin(toHttps, uri == null ? null : uri.getBytes(StandardCharsets.UTF_8), regex,
                    Conf.bool(c, "append_query_string", false), Conf.integer(c, "ret_code", toHttps ? 301 : 302));
        }
    }
}
