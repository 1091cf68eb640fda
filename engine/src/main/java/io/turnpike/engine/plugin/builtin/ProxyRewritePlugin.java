package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.HeaderOps;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * APISIX {@code proxy-rewrite}: the upstream request's {@code uri} (the client's query string is appended when the new
 * URI has none, as APISIX does) or {@code regex_uri} (pattern/template pairs on the linear-time engine; {@code uri}
 * wins when both are set), {@code host}, {@code method} and {@code headers} ({@code add}/{@code set}/{@code
 * remove} maps, or the legacy map). Runs in the rewrite phase; the edits are applied in the single pass that writes the
 * request head upstream.
 */
public final class ProxyRewritePlugin extends PluginSpec {
    static final String NAME = "proxy-rewrite";
    private final byte[] uri;
    private final boolean uriHasQuery;
    private final byte[] host;
    private final byte[] method;
    private final HeaderOps headers;
    private final UriTemplate regexUri;
    /** {@code uri} with variables (rendered per request), or null when it has none. */
    private final io.turnpike.engine.plugin.ValueTemplate uriTemplate;

    ProxyRewritePlugin(byte[] uri, io.turnpike.engine.plugin.ValueTemplate uriTemplate, UriTemplate regexUri,
                       byte[] host, byte[] method, HeaderOps headers) {
        super(NAME, 1008);
        this.uriTemplate = uriTemplate;
        this.regexUri = regexUri;
        this.uri = uri;
        this.uriHasQuery = uri != null && indexOf(uri, (byte) '?') >= 0;
        this.host = host;
        this.method = method;
        this.headers = headers;
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int phases() {
        return PHASE_REWRITE;
    }

    @Override
    public int maxHeaderEdits() {
        return headers.size();
    }

    @Override
    public int rewrite(PluginContext x) {
        if (uriTemplate != null) {
            long r = uriTemplate.render(x);
            if (r >= 0) {
                int off = (int) (r >>> 32);
                int len = (int) r;
                byte[] s = x.scratchBytes();
                boolean hasQuery = false;
                for (int i = off; i < off + len; i++) {
                    if (s[i] == '?') {
                        hasQuery = true;
                        break;
                    }
                }
                RequestHead h = x.head();
                int queryLength = h.targetEnd - h.pathEnd;
                if (hasQuery || queryLength == 0) {
                    x.uri(s, off, len);
                } else {
                    int at = x.scratch(len + queryLength);
                    if (at >= 0) {
                        byte[] o = x.scratchBytes();
                        System.arraycopy(s, off, o, at, len);
                        x.source().getBytes(h.pathEnd, o, at + len, queryLength);
                        x.uri(o, at, len + queryLength);
                    }
                }
            }
        } else if (uri != null) {
            RequestHead h = x.head();
            int queryLength = h.targetEnd - h.pathEnd;
            if (uriHasQuery || queryLength == 0) {
                x.uri(uri, 0, uri.length);
            } else {
                int n = uri.length + queryLength;
                int at = x.scratch(n);
                if (at >= 0) {
                    byte[] s = x.scratchBytes();
                    System.arraycopy(uri, 0, s, at, uri.length);
                    ByteBuf src = x.source();
                    src.getBytes(h.pathEnd, s, at + uri.length, queryLength);
                    x.uri(s, at, n);
                } else {
                    x.uri(uri, 0, uri.length);
                }
            }
        } else if (regexUri != null) {
            regexUri.apply(x);
        }
        if (host != null) {
            x.host(host);
        }
        if (method != null) {
            x.method(method);
        }
        headers.applyTo(x.requestEdits, x);
        return CONTINUE;
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 1008;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("uri", "regex_uri", "host", "method", "headers", "use_real_request_uri_unsafe",
                    "_meta"));
            if (Conf.bool(c, "use_real_request_uri_unsafe", false)) {
                throw new IllegalArgumentException(NAME + ": use_real_request_uri_unsafe is not supported");
            }
            String uri = Conf.str(c, "uri", null);
            io.turnpike.engine.plugin.ValueTemplate uriTemplate = uri == null ? null
                    : io.turnpike.engine.plugin.ValueTemplate.compile(NAME + ".uri", uri);
            if (uriTemplate != null && uriTemplate.constant != null) {
                uriTemplate = null;
            }
            String host = Conf.str(c, "host", null);
            String method = Conf.str(c, "method", null);
            UriTemplate regexUri = c.has("regex_uri")
                    ? UriTemplate.compile(NAME + ".regex_uri", Conf.strings(c, "regex_uri")) : null;
            return new ProxyRewritePlugin(uri == null ? null : uri.getBytes(StandardCharsets.UTF_8), uriTemplate, regexUri,
                    host == null ? null : Bytes.ascii(host), method == null ? null : Bytes.ascii(method),
                    HeaderOps.compile(c.get("headers"), false, true));
        }
    }
}
