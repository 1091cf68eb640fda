package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * APISIX {@code request-id}: keeps the client's {@code header_name} header when present, else generates a UUID v4 and
 * sends it upstream; with {@code include_in_response} the same id goes back in the response. Only the {@code uuid}
 * algorithm is implemented (others are refused). The id is written into the exchange's scratch: no allocation.
 */
public final class RequestIdPlugin extends PluginSpec {
    static final String NAME = "request-id";
    private static final byte[] HEX = Bytes.ascii("0123456789abcdef");
    private final byte[] name;
    private final byte[] lower;
    private final boolean inResponse;

    RequestIdPlugin(String headerName, boolean inResponse) {
        super(NAME, 12015);
        this.name = Bytes.ascii(headerName);
        this.lower = Bytes.lower(headerName);
        this.inResponse = inResponse;
    }

    @Override
    public int phases() {
        return PHASE_REWRITE | (inResponse ? PHASE_HEADER_FILTER : 0);
    }

    @Override
    public int maxHeaderEdits() {
        return 2;
    }

    @Override
    public int rewrite(PluginContext x) {
        int i = x.header(lower);
        if (i >= 0) {
            RequestHead h = x.head();
            if (inResponse) {
                int at = x.copyToScratch(h.valueStart[i], h.valueEnd[i]);
                if (at >= 0) {
                    x.requestId(x.scratchBytes(), at, h.valueEnd[i] - h.valueStart[i]);
                }
            }
            return CONTINUE;
        }
        int at = x.scratch(36);
        if (at < 0) {
            return CONTINUE;
        }
        byte[] s = x.scratchBytes();
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long hi = (r.nextLong() & ~0xF000L) | 0x4000L; // version 4
        long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // IETF variant
        int p = at;
        for (int k = 60; k >= 0; k -= 4) {
            if (k == 28 || k == 12) {
                s[p++] = '-';
            }
            s[p++] = HEX[(int) (hi >>> k) & 0xF];
        }
        for (int k = 60; k >= 0; k -= 4) {
            if (k == 60 || k == 44) {
                s[p++] = '-';
            }
            s[p++] = HEX[(int) (lo >>> k) & 0xF];
        }
        x.requestEdits.set(lower, name, s, at, 36);
        x.requestId(s, at, 36);
        return CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext x, ByteBuf src, ResponseHead rh) {
        if (x.requestId() != null) {
            x.responseEdits.set(lower, name, x.requestId(), x.requestIdOffset(), x.requestIdLength());
        }
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 12015;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("header_name", "include_in_response", "algorithm", "_meta"));
            String alg = Conf.str(c, "algorithm", "uuid");
            if (!alg.equals("uuid")) {
                throw new IllegalArgumentException(NAME + ": algorithm \"" + alg + "\" is not supported (uuid only)");
            }
            return new RequestIdPlugin(Conf.str(c, "header_name", "X-Request-Id"),
                    Conf.bool(c, "include_in_response", true));
        }
    }
}
