package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.config.plugin.AuthPluginSchemas;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.JwtCredential;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Arrays;

/**
 * APISIX {@code jwt-auth} (3.x) on a route. The token is taken from the {@code header} (authorization; a
 * {@code "Bearer "} or {@code "bearer "} prefix is dropped), else the {@code query} argument (jwt, percent-decoded),
 * else the {@code cookie} (jwt). It must be {@code header.payload.signature} with base64url JSON objects; the consumer
 * is the one whose jwt-auth {@code key} is the payload's {@code key_claim_name} claim; the header's {@code alg} must be
 * the consumer's algorithm (so {@code none} and algorithm confusion are refused); the signature is verified with the
 * consumer's secret or public key; then {@code exp} and {@code nbf} are checked when present (or when listed in
 * {@code claims_to_verify}, which makes them required) with the consumer's {@code lifetime_grace_period}.
 *
 * <p>Failures are APISIX's 401 answers with {@code WWW-Authenticate: Bearer realm="<realm>"}: {@code Missing JWT token
 * in request}, {@code JWT token invalid}, {@code missing user key in JWT token}, {@code Invalid user key in JWT
 * token}, {@code failed to verify jwt}. {@code hide_credentials} removes the header, the query argument or the cookie
 * before the request goes upstream.
 *
 * <p>The token is copied and decoded into a per-thread work buffer and scanned without allocation; HS* verification
 * allocates nothing, RS* and ES* allocate inside the JDK's verification (see {@link JwtKeys}).
 */
public final class JwtAuthPlugin extends PluginSpec {
    static final String NAME = "jwt-auth";
    static final int PRIORITY = 2510;
    /** The longest token read (a longer one is invalid); request heads are smaller than this anyway. */
    static final int MAX_TOKEN = 64 * 1024;
    private static final byte[] ALG = Bytes.ascii("alg");
    private static final byte[] EXP = Bytes.ascii("exp");
    private static final byte[] NBF = Bytes.ascii("nbf");
    private static final byte[] COOKIE = Bytes.lower("cookie");
    private static final byte[] COOKIE_NAME = Bytes.ascii("Cookie");
    private static final int CLAIM_EXP = 1;
    private static final int CLAIM_NBF = 2;

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private final byte[] headerLower;
    private final byte[] query;
    private final byte[] cookieLower;
    private final boolean hide;
    private final byte[] keyClaim;
    /** claims_to_verify as a bit set; 0: APISIX's default (exp and nbf checked when present). */
    private final int requiredClaims;
    private final LocalReply missing;
    private final LocalReply invalid;
    private final LocalReply missingKey;
    private final LocalReply invalidKey;
    private final LocalReply failed;

    JwtAuthPlugin(String header, String query, String cookie, boolean hide, String keyClaim, int requiredClaims,
                  String realm) {
        super(NAME, PRIORITY);
        this.headerLower = Bytes.lower(header);
        this.query = Bytes.ascii(query);
        this.cookieLower = Bytes.lower(cookie);
        this.hide = hide;
        this.keyClaim = keyClaim.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.requiredClaims = requiredClaims;
        String www = "WWW-Authenticate: Bearer realm=\"" + realm + "\"\r\n";
        this.missing = BasicAuthPlugin.reply("Missing JWT token in request", www);
        this.invalid = BasicAuthPlugin.reply("JWT token invalid", www);
        this.missingKey = BasicAuthPlugin.reply("missing user key in JWT token", www);
        this.invalidKey = BasicAuthPlugin.reply("Invalid user key in JWT token", www);
        this.failed = BasicAuthPlugin.reply("failed to verify jwt", www);
    }

    @Override
    public int phases() {
        return PHASE_REWRITE;
    }

    @Override
    public int maxHeaderEdits() {
        return 1;
    }

    /** Per-thread working memory: the token and its decoded parts, and the JSON scanner. */
    static final class Work {
        byte[] buf = new byte[4096];
        final JsonScan scan = new JsonScan();

        byte[] ensure(int n) {
            if (buf.length < n) {
                buf = new byte[Math.max(n, buf.length * 2)];
            }
            return buf;
        }
    }

    @Override
    public int rewrite(PluginContext x) {
        RequestHead h = x.head();
        ByteBuf src = x.source();
        Work w = WORK.get();
        byte[] buf;
        int len;
        int i = x.header(headerLower);
        if (i >= 0) {
            int vs = h.valueStart[i];
            int ve = h.valueEnd[i];
            if (hide) {
                x.requestEdits.remove(headerLower);
            }
            if (ve - vs >= 7 && (src.getByte(vs) == 'B' || src.getByte(vs) == 'b')
                    && Bytes.equals(src, vs + 1, vs + 7, EARER)) {
                vs += 7;
            }
            len = ve - vs;
            if (len > MAX_TOKEN) {
                return x.reply(invalid);
            }
            buf = w.ensure(len * 4 + 16);
            src.getBytes(vs, buf, 0, len);
        } else if (x.queryArg(query)) {
            int s = x.argStart;
            int e = x.argEnd;
            if (e - s > MAX_TOKEN) {
                return x.reply(invalid);
            }
            buf = w.ensure((e - s) * 4 + 16);
            len = percentDecode(src, s, e, buf);
            if (hide) {
                KeyAuthPlugin.hideQueryArg(x, h, src);
            }
        } else {
            long span = cookie(x, h, src, cookieLower);
            if (span < 0) {
                return x.reply(missing);
            }
            int s = (int) (span >>> 32);
            int e = (int) span;
            if (e - s > MAX_TOKEN) {
                return x.reply(invalid);
            }
            buf = w.ensure((e - s) * 4 + 16);
            len = e - s;
            src.getBytes(s, buf, 0, len);
            if (hide) {
                hideCookie(x, h, src, cookieLower);
            }
        }
        return verify(x, w, buf, len);
    }

    private static final byte[] EARER = Bytes.ascii("earer ");

    private int verify(PluginContext x, Work w, byte[] buf, int len) {
        // lua-resty-jwt splits on '.' keeping the non-empty parts ("([^.]+)"): three make a JWS; anything else is
        // invalid here (four or five would be a JWE, which APISIX cannot decrypt without a key: invalid too).
        int s1 = 0, e1 = 0, s2 = 0, e2 = 0, s3 = 0, e3 = 0;
        int parts = 0;
        for (int i = 0; i < len; ) {
            if (buf[i] == '.') {
                i++;
                continue;
            }
            int st = i;
            while (i < len && buf[i] != '.') {
                i++;
            }
            switch (++parts) {
                case 1 -> { s1 = st; e1 = i; }
                case 2 -> { s2 = st; e2 = i; }
                case 3 -> { s3 = st; e3 = i; }
                default -> { return x.reply(invalid); }
            }
        }
        if (parts != 3) {
            return x.reply(invalid);
        }
        int hAt = len;
        int hLen = Base64Span.decodeUrl(buf, s1, e1, buf, hAt);
        if (hLen < 0) {
            return x.reply(invalid);
        }
        int pAt = hAt + hLen;
        int pLen = Base64Span.decodeUrl(buf, s2, e2, buf, pAt);
        if (pLen < 0) {
            return x.reply(invalid);
        }
        int sAt = pAt + pLen;
        int sLen = Base64Span.decodeUrlStrict(buf, s3, e3, buf, sAt);
        // The signing input is raw_header "." raw_payload: in place unless empty parts sat between them.
        int inStart = s1;
        int inEnd = e2;
        int next = sAt + Math.max(0, sLen);
        if (s2 != e1 + 1) {
            inStart = next;
            System.arraycopy(buf, s1, buf, next, e1 - s1);
            buf[next + (e1 - s1)] = '.';
            System.arraycopy(buf, s2, buf, next + (e1 - s1) + 1, e2 - s2);
            inEnd = next + (e1 - s1) + 1 + (e2 - s2);
            next = inEnd;
        }
        int tmp = next; // room for unescaping: at least max(hLen, pLen) bytes remain
        JsonScan scan = w.scan;
        scan.fields(ALG);
        if (!scan.object(buf, hAt, hAt + hLen, buf, tmp)) {
            return x.reply(invalid);
        }
        byte algType = scan.type[0];
        int algStart = scan.start[0];
        int algEnd = scan.end[0];
        boolean algEscaped = scan.escaped[0];
        scan.fields(keyClaim, EXP, NBF);
        if (!scan.object(buf, pAt, pAt + pLen, buf, tmp)) {
            return x.reply(invalid);
        }
        byte keyType = scan.type[0];
        if (keyType == JsonScan.ABSENT || keyType == JsonScan.FALSE) {
            return x.reply(missingKey);
        }
        if (keyType != JsonScan.STRING) {
            return x.reply(invalidKey);
        }
        int ks = scan.start[0];
        int ke = scan.end[0];
        if (scan.escaped[0]) {
            int n = JsonScan.unescape(buf, ks, ke, buf, tmp);
            if (n < 0) {
                return x.reply(invalidKey);
            }
            ks = tmp;
            ke = tmp + n;
        }
        JwtCredential cred = x.consumers().jwtAuth(buf, ks, ke);
        if (cred == null) {
            return x.reply(invalidKey);
        }
        // The header's alg must be the consumer's algorithm (refuses "none" and algorithm confusion).
        if (algType != JsonScan.STRING) {
            return x.reply(failed);
        }
        if (algEscaped) {
            int n = JsonScan.unescape(buf, algStart, algEnd, buf, tmp);
            if (n < 0) {
                return x.reply(failed);
            }
            algStart = tmp;
            algEnd = tmp + n;
        }
        byte[] alg = cred.algorithm;
        if (!Arrays.equals(buf, algStart, algEnd, alg, 0, alg.length)) {
            return x.reply(failed);
        }
        if (sLen < 0 || !cred.verify(buf, inStart, inEnd - inStart, buf, sAt, sLen)) {
            return x.reply(failed);
        }
        if (!claimsValid(scan, buf, cred.leeway)) {
            return x.reply(failed);
        }
        x.consumer(cred.consumer);
        return CONTINUE;
    }

    private boolean claimsValid(JsonScan scan, byte[] buf, long leeway) {
        long now = System.currentTimeMillis() / 1000;
        for (int c = 1; c <= 2; c++) {
            byte t = scan.type[c];
            if (t == JsonScan.ABSENT) {
                if ((requiredClaims & (1 << (c - 1))) != 0) {
                    return false; // "claim exp is missing"
                }
                continue;
            }
            if (requiredClaims != 0 && (requiredClaims & (1 << (c - 1))) == 0) {
                continue; // claims_to_verify lists the other claim only
            }
            if (t != JsonScan.NUMBER) {
                return false; // "claim exp is not a number"
            }
            double v = JsonScan.parseNumber(buf, scan.start[c], scan.end[c]);
            if (c == 1 ? !(v > now - leeway) : !(v < now + leeway)) {
                return false; // "'exp' claim expired at ..." / "'nbf' claim not valid until ..."
            }
        }
        return true;
    }

    private static int indexOf(byte[] b, int from, int end, byte c) {
        for (int i = from; i < end; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** nginx's argument decoding: %XX (an invalid escape is kept as is) and '+' as a space; the length. */
    static int percentDecode(ByteBuf src, int s, int e, byte[] dst) {
        int o = 0;
        for (int i = s; i < e; i++) {
            byte c = src.getByte(i);
            if (c == '%' && i + 2 < e) {
                int hi = JsonScan.hex(src.getByte(i + 1));
                int lo = JsonScan.hex(src.getByte(i + 2));
                if (hi >= 0 && lo >= 0) {
                    dst[o++] = (byte) ((hi << 4) | lo);
                    i += 2;
                    continue;
                }
            }
            dst[o++] = c == '+' ? (byte) ' ' : c;
        }
        return o;
    }

    /**
     * The value of the first cookie named {@code lower} (case-insensitive, as nginx's {@code $cookie_NAME}) across the
     * Cookie headers, as {@code start << 32 | end}; -1 when absent.
     */
    static long cookie(PluginContext x, RequestHead h, ByteBuf src, byte[] lower) {
        for (int i = 0; i < h.headerCount; i++) {
            if (!Bytes.equalsLower(src, h.nameStart[i], h.nameEnd[i], COOKIE)) {
                continue;
            }
            int p = h.valueStart[i];
            int end = h.valueEnd[i];
            while (p < end) {
                while (p < end && (src.getByte(p) == ' ' || src.getByte(p) == '\t')) {
                    p++;
                }
                int semi = p;
                while (semi < end && src.getByte(semi) != ';') {
                    semi++;
                }
                int eq = p + lower.length;
                if (eq < semi && src.getByte(eq) == '=' && Bytes.equalsLower(src, p, eq, lower)) {
                    int ve = semi;
                    while (ve > eq + 1 && (src.getByte(ve - 1) == ' ' || src.getByte(ve - 1) == '\t')) {
                        ve--;
                    }
                    return ((long) (eq + 1) << 32) | ve;
                }
                p = semi + 1;
            }
        }
        return -1;
    }

    /** Replaces the Cookie headers by one without the token's cookie (the others joined by "; "). */
    private static void hideCookie(PluginContext x, RequestHead h, ByteBuf src, byte[] lower) {
        int room = 0;
        for (int i = 0; i < h.headerCount; i++) {
            if (Bytes.equalsLower(src, h.nameStart[i], h.nameEnd[i], COOKIE)) {
                room += h.valueEnd[i] - h.valueStart[i] + 2;
            }
        }
        int at = x.scratch(room);
        if (at < 0) {
            x.requestEdits.remove(COOKIE);
            return;
        }
        byte[] s = x.scratchBytes();
        int o = at;
        for (int i = 0; i < h.headerCount; i++) {
            if (!Bytes.equalsLower(src, h.nameStart[i], h.nameEnd[i], COOKIE)) {
                continue;
            }
            int p = h.valueStart[i];
            int end = h.valueEnd[i];
            while (p < end) {
                while (p < end && (src.getByte(p) == ' ' || src.getByte(p) == '\t')) {
                    p++;
                }
                int semi = p;
                while (semi < end && src.getByte(semi) != ';') {
                    semi++;
                }
                int pe = semi;
                while (pe > p && (src.getByte(pe - 1) == ' ' || src.getByte(pe - 1) == '\t')) {
                    pe--;
                }
                int eq = p + lower.length;
                boolean token = eq < pe && src.getByte(eq) == '=' && Bytes.equalsLower(src, p, eq, lower);
                if (pe > p && !token) {
                    if (o > at) {
                        s[o++] = ';';
                        s[o++] = ' ';
                    }
                    src.getBytes(p, s, o, pe - p);
                    o += pe - p;
                }
                p = semi + 1;
            }
        }
        if (o == at) {
            x.requestEdits.remove(COOKIE);
        } else {
            x.requestEdits.set(COOKIE, COOKIE_NAME, s, at, o - at);
        }
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
            String err = AuthPluginSchemas.jwtAuth(c, false);
            if (err != null) {
                throw new IllegalArgumentException(err);
            }
            int claims = 0;
            JsonNode list = c.get("claims_to_verify");
            if (list != null) {
                for (JsonNode n : list) {
                    claims |= n.asText().equals("exp") ? CLAIM_EXP : CLAIM_NBF;
                }
            }
            return new JwtAuthPlugin(Conf.str(c, "header", "authorization"), Conf.str(c, "query", "jwt"),
                    Conf.str(c, "cookie", "jwt"), Conf.bool(c, "hide_credentials", false),
                    Conf.str(c, "key_claim_name", "key"), claims, Conf.str(c, "realm", "jwt"));
        }
    }
}
