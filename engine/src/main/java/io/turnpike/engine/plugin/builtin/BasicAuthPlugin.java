package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.config.plugin.AuthPluginSchemas;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.BasicAuthCredential;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

/**
 * APISIX {@code basic-auth} on a route: {@code Authorization: Basic base64(username:password)} is decoded from the
 * request's bytes into the exchange's scratch (APISIX's parsing: the first {@code basic} in any case followed by one
 * whitespace, nginx's lenient base64, {@code ngx.re.split} at {@code ':'} with the password ending at a second
 * {@code ':'},
 * whitespace removed from both), the consumer is found by username and the password compared in constant time.
 * Failures get APISIX's 401 answers with {@code WWW-Authenticate: Basic realm="<realm>"}. {@code hide_credentials}
 * removes Authorization before the request goes upstream. No allocation.
 */
public final class BasicAuthPlugin extends PluginSpec {
    static final String NAME = "basic-auth";
    static final int PRIORITY = 2520;
    private static final byte[] AUTHORIZATION = Bytes.lower("authorization");

    private final boolean hide;
    private final LocalReply missing;
    private final LocalReply invalidHeader;
    private final LocalReply invalidUser;

    BasicAuthPlugin(boolean hide, String realm) {
        super(NAME, PRIORITY);
        this.hide = hide;
        String www = "WWW-Authenticate: Basic realm=\"" + realm + "\"\r\n";
        this.missing = reply("Missing authorization in request", www);
        this.invalidHeader = reply("Invalid authorization in request", www);
        this.invalidUser = reply("Invalid user authorization", www);
    }

    /** APISIX's {@code {"message": ...}} 401 with a WWW-Authenticate line (also used by jwt-auth). */
    static LocalReply reply(String message, String headers) {
        return new LocalReply(401, "text/plain; charset=utf-8", headers,
                ("{\"message\":\"" + LocalReply.jsonEscape(message) + "\"}\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
        int i = x.header(AUTHORIZATION);
        if (i < 0) {
            return x.reply(missing);
        }
        RequestHead h = x.head();
        ByteBuf src = x.source();
        int vs = h.valueStart[i];
        int ve = h.valueEnd[i];
        int b64 = credentialsStart(src, vs, ve);
        if (b64 < 0) {
            return x.reply(invalidHeader);
        }
        int at = x.scratch(Base64Span.maxDecoded(ve - b64));
        if (at < 0) {
            return x.reply(invalidHeader);
        }
        byte[] s = x.scratchBytes();
        int n = Base64Span.decode(src, b64, ve, s, at);
        if (n < 0) {
            return x.reply(invalidHeader);
        }
        int end = at + n;
        int c1 = indexOf(s, at, end, (byte) ':');
        if (c1 < 0) {
            return x.reply(invalidHeader);
        }
        // ngx.re.split(decoded, ":"): the password is the second field, up to a second ':'. Its loop stops once a
        // match ends at the last or second-to-last byte, the rest being the last field ("u:" -> "", "u::" -> ":").
        int c2 = c1 >= end - 2 ? -1 : indexOf(s, c1 + 1, end, (byte) ':');
        int pwEnd = c2 < 0 ? end : c2;
        int userEnd = stripWhitespace(s, at, c1);
        int pwStart = c1 + 1;
        int pwStop = stripWhitespace(s, pwStart, pwEnd);
        BasicAuthCredential cred = x.consumers().basicAuth(s, at, userEnd);
        if (cred == null) {
            return x.reply(invalidUser);
        }
        if (!JwtKeys.equal(cred.password, 0, cred.password.length, s, pwStart, pwStop - pwStart)) {
            return x.reply(invalidUser);
        }
        if (hide) {
            x.requestEdits.remove(AUTHORIZATION);
        }
        x.consumer(cred.consumer);
        return CONTINUE;
    }

    /**
     * APISIX matches {@code (?i:basic)\s(.+)} anywhere in the value: the start of the credentials after the first
     * such match, or -1.
     */
    static int credentialsStart(ByteBuf src, int start, int end) {
        for (int i = start; i + 6 < end; i++) {
            if ((src.getByte(i) | 0x20) == 'b' && (src.getByte(i + 1) | 0x20) == 'a'
                    && (src.getByte(i + 2) | 0x20) == 's' && (src.getByte(i + 3) | 0x20) == 'i'
                    && (src.getByte(i + 4) | 0x20) == 'c' && isSpace(src.getByte(i + 5))) {
                return i + 6;
            }
        }
        return -1;
    }

    /** PCRE's {@code \s}. */
    static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == 0x0b || b == '\f' || b == '\r';
    }

    private static int indexOf(byte[] s, int from, int end, byte b) {
        for (int i = from; i < end; i++) {
            if (s[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** Removes whitespace from {@code s[start, end)} in place; the new end. */
    private static int stripWhitespace(byte[] s, int start, int end) {
        int o = start;
        for (int i = start; i < end; i++) {
            if (!isSpace(s[i])) {
                s[o++] = s[i];
            }
        }
        return o;
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
            String err = AuthPluginSchemas.basicAuth(c, false);
            if (err != null) {
                throw new IllegalArgumentException(err);
            }
            return new BasicAuthPlugin(Conf.bool(c, "hide_credentials", false), Conf.str(c, "realm", "basic"));
        }
    }
}
