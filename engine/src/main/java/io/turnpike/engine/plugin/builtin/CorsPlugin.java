package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.HeaderEdits;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;

/**
 * APISIX {@code cors}: an {@code OPTIONS} request is answered locally (200, empty) with the CORS headers; other
 * responses get them in the header_filter phase. {@code allow_origins}: {@code *}, {@code **} (echo the request's
 * Origin) or a comma-separated list (the Origin is echoed when listed, else no CORS header is added);
 * {@code allow_headers}: {@code *}, {@code **} (echo Access-Control-Request-Headers) or a list; {@code allow_methods}:
 * {@code *} means every method; {@code max_age}, {@code expose_headers}, {@code allow_credential}.
 */
public final class CorsPlugin extends PluginSpec {
    static final String NAME = "cors";
    private static final byte[] ORIGIN = Bytes.lower("Origin");
    private static final byte[] REQ_HEADERS = Bytes.lower("Access-Control-Request-Headers");
    private static final byte[] N_ALLOW_ORIGIN = Bytes.ascii("Access-Control-Allow-Origin");
    private static final byte[] L_ALLOW_ORIGIN = Bytes.lower("Access-Control-Allow-Origin");
    private static final byte[] N_ALLOW_METHODS = Bytes.ascii("Access-Control-Allow-Methods");
    private static final byte[] L_ALLOW_METHODS = Bytes.lower("Access-Control-Allow-Methods");
    private static final byte[] N_ALLOW_HEADERS = Bytes.ascii("Access-Control-Allow-Headers");
    private static final byte[] L_ALLOW_HEADERS = Bytes.lower("Access-Control-Allow-Headers");
    private static final byte[] N_EXPOSE = Bytes.ascii("Access-Control-Expose-Headers");
    private static final byte[] L_EXPOSE = Bytes.lower("Access-Control-Expose-Headers");
    private static final byte[] N_MAX_AGE = Bytes.ascii("Access-Control-Max-Age");
    private static final byte[] L_MAX_AGE = Bytes.lower("Access-Control-Max-Age");
    private static final byte[] N_CREDENTIALS = Bytes.ascii("Access-Control-Allow-Credentials");
    private static final byte[] L_CREDENTIALS = Bytes.lower("Access-Control-Allow-Credentials");
    private static final byte[] N_VARY = Bytes.ascii("Vary");
    private static final byte[] L_VARY = Bytes.lower("Vary");
    private static final byte[] V_ORIGIN = Bytes.ascii("Origin");
    private static final byte[] V_TRUE = Bytes.ascii("true");
    private static final byte[] STAR = Bytes.ascii("*");
    private static final String ALL_METHODS = "GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE";
    private static final LocalReply PREFLIGHT = LocalReply.empty(200);

    private final boolean originStar;
    private final boolean originEcho;
    private final byte[][] origins;
    private final byte[] methods;
    private final boolean headersEcho;
    private final byte[] headers;
    private final byte[] expose;
    private final byte[] maxAge;
    private final boolean credentials;

    CorsPlugin(String allowOrigins, String allowMethods, String allowHeaders, String expose, int maxAge,
               boolean credentials) {
        super(NAME, 4000);
        this.originStar = allowOrigins.equals("*");
        this.originEcho = allowOrigins.equals("**");
        String[] list = allowOrigins.split(",");
        this.origins = new byte[list.length][];
        for (int i = 0; i < list.length; i++) {
            origins[i] = Bytes.ascii(list[i].trim());
        }
        this.methods = Bytes.ascii(allowMethods.equals("*") || allowMethods.equals("**") ? ALL_METHODS : allowMethods);
        this.headersEcho = allowHeaders.equals("**");
        this.headers = Bytes.ascii(allowHeaders);
        this.expose = expose == null ? null : Bytes.ascii(expose);
        this.maxAge = Bytes.ascii(Integer.toString(maxAge));
        this.credentials = credentials;
    }

    @Override
    public int phases() {
        return PHASE_REWRITE;
    }

    @Override
    public int maxHeaderEdits() {
        return 7;
    }

    @Override
    public int rewrite(PluginContext x) {
        // The response headers are decided now, while the request head is readable (it is not in header_filter),
        // and recorded as response edits.
        addHeaders(x, x.responseEdits);
        if (x.head().method == RequestHead.METHOD_OPTIONS) {
            return x.reply(PREFLIGHT);
        }
        return CONTINUE;
    }

    private void addHeaders(PluginContext x, HeaderEdits e) {
        RequestHead h = x.head();
        ByteBuf req = x.source();
        if (originStar) {
            e.set(L_ALLOW_ORIGIN, N_ALLOW_ORIGIN, STAR);
        } else {
            int o = x.header(ORIGIN);
            if (o < 0) {
                return;
            }
            if (!originEcho && !listed(req, h.valueStart[o], h.valueEnd[o])) {
                return;
            }
            int at = x.copyToScratch(h.valueStart[o], h.valueEnd[o]);
            if (at < 0) {
                return;
            }
            e.set(L_ALLOW_ORIGIN, N_ALLOW_ORIGIN, x.scratchBytes(), at, h.valueEnd[o] - h.valueStart[o]);
            e.add(L_VARY, N_VARY, V_ORIGIN);
        }
        e.set(L_ALLOW_METHODS, N_ALLOW_METHODS, methods);
        if (headersEcho) {
            int r = x.header(REQ_HEADERS);
            if (r >= 0) {
                int at = x.copyToScratch(h.valueStart[r], h.valueEnd[r]);
                if (at >= 0) {
                    e.set(L_ALLOW_HEADERS, N_ALLOW_HEADERS, x.scratchBytes(), at, h.valueEnd[r] - h.valueStart[r]);
                }
            }
        } else {
            e.set(L_ALLOW_HEADERS, N_ALLOW_HEADERS, headers);
        }
        if (expose != null) {
            e.set(L_EXPOSE, N_EXPOSE, expose);
        }
        e.set(L_MAX_AGE, N_MAX_AGE, maxAge);
        if (credentials) {
            e.set(L_CREDENTIALS, N_CREDENTIALS, V_TRUE);
        }
    }

    private boolean listed(ByteBuf buf, int start, int end) {
        for (byte[] o : origins) {
            if (Bytes.equals(buf, start, end, o)) {
                return true;
            }
        }
        return false;
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 4000;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age",
                    "allow_credential", "_meta"));
            return new CorsPlugin(Conf.str(c, "allow_origins", "*"), Conf.str(c, "allow_methods", "*"),
                    Conf.str(c, "allow_headers", "*"), Conf.str(c, "expose_headers", null),
                    Conf.integer(c, "max_age", 5), Conf.bool(c, "allow_credential", false));
        }
    }
}
