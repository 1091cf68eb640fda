package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.Consumer;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;

/**
 * APISIX {@code key-auth} on a route: the key is read from the {@code header} (default {@code apikey}), else from the
 * {@code query} argument of the same default name, and looked up among the consumers' key-auth keys by its bytes
 * (no decoding, no allocation). Missing or unknown keys get APISIX's 401 answers. {@code hide_credentials} removes the
 * header or the query argument before the request goes upstream. The consumer found is the exchange's consumer
 * ({@code hash_on: consumer}, consumer-restriction, per-consumer limits).
 */
public final class KeyAuthPlugin extends PluginSpec {
    static final String NAME = "key-auth";
    static final LocalReply MISSING = LocalReply.message(401, "Missing API key in request");
    static final LocalReply INVALID = LocalReply.message(401, "Invalid API key in request");

    private final byte[] headerLower;
    private final byte[] query;
    private final boolean hide;

    KeyAuthPlugin(String header, String query, boolean hide) {
        super(NAME, 2500);
        this.headerLower = Bytes.lower(header);
        this.query = Bytes.ascii(query);
        this.hide = hide;
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
        int i = x.header(headerLower);
        Consumer c;
        if (i >= 0) {
            c = x.consumers().byKey(src, h.valueStart[i], h.valueEnd[i]);
            if (c == null) {
                return x.reply(INVALID);
            }
            if (hide) {
                x.requestEdits.remove(headerLower);
            }
        } else if (x.queryArg(query)) {
            c = x.consumers().byKey(src, x.argStart, x.argEnd);
            if (c == null) {
                return x.reply(INVALID);
            }
            if (hide) {
                hideQueryArg(x, h, src);
            }
        } else {
            return x.reply(MISSING);
        }
        x.consumer(c);
        return CONTINUE;
    }

    /** The target without the key argument (and its separator), written into the exchange's scratch. */
    static void hideQueryArg(PluginContext x, RequestHead h, ByteBuf src) {
        int pairStart = x.argPairStart;
        int pairEnd = x.argPairEnd;
        // Drop "name=value" with the '&' after it, or before it when it is the last argument.
        int cutStart = pairStart;
        int cutEnd = pairEnd;
        if (cutEnd < h.targetEnd) {
            cutEnd++; // the '&' after
        } else if (cutStart - 1 > h.pathEnd) {
            cutStart--; // the '&' before
        } else {
            cutStart = h.pathEnd; // the only argument: drop the '?' as well
        }
        int n = (cutStart - h.targetStart) + (h.targetEnd - cutEnd);
        byte[] edited = x.uri();
        if (edited != null) {
            return; // another plugin rewrote the URI already; it carries the query it chose
        }
        int at = x.scratch(n);
        if (at < 0) {
            return;
        }
        byte[] s = x.scratchBytes();
        src.getBytes(h.targetStart, s, at, cutStart - h.targetStart);
        src.getBytes(cutEnd, s, at + (cutStart - h.targetStart), h.targetEnd - cutEnd);
        x.uri(s, at, n);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 2500;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("header", "query", "hide_credentials", "_meta"));
            return new KeyAuthPlugin(Conf.str(c, "header", "apikey"), Conf.str(c, "query", "apikey"),
                    Conf.bool(c, "hide_credentials", false));
        }
    }
}
