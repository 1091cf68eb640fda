package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.plugin.HeaderOps;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/**
 * APISIX {@code response-rewrite}: {@code status_code}, {@code body} (with {@code body_base64}) and {@code headers}
 * ({@code add} as "Name: value" lines, {@code set}, {@code remove}, or the legacy map) applied to the upstream's
 * response in the header_filter phase. A replaced body discards the upstream's body bytes and is sent with its own
 * Content-Length.
 */
public final class ResponseRewritePlugin extends PluginSpec {
    static final String NAME = "response-rewrite";
    private final int status;
    private final HeaderOps headers;
    private final byte[] body;

    ResponseRewritePlugin(int status, HeaderOps headers, byte[] body) {
        super(NAME, 899);
        this.status = status;
        this.headers = headers;
        this.body = body;
    }

    @Override
    public int phases() {
        return PHASE_HEADER_FILTER;
    }

    @Override
    public int maxHeaderEdits() {
        return headers.size();
    }

    @Override
    public void headerFilter(PluginContext x, ByteBuf src, ResponseHead rh) {
        if (status > 0) {
            x.statusOverride(status);
        }
        headers.applyTo(x.responseEdits);
        if (body != null) {
            x.responseBody(body);
        }
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 899;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("status_code", "body", "body_base64", "headers", "_meta"));
            String b = Conf.str(c, "body", null);
            byte[] body = null;
            if (b != null) {
                body = Conf.bool(c, "body_base64", false) ? Base64.getDecoder().decode(b)
                        : b.getBytes(StandardCharsets.UTF_8);
            }
            return new ResponseRewritePlugin(Conf.integer(c, "status_code", 0),
                    HeaderOps.compile(c.get("headers"), true), body);
        }
    }
}
