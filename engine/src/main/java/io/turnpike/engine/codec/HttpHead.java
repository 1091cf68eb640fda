package io.turnpike.engine.codec;

import io.netty.buffer.ByteBuf;

/**
 * Fields common to a parsed request or response head. All indexes are <em>absolute</em> indexes into the
 * {@link ByteBuf} that was parsed (not offsets from the reader index); nothing is copied out of the buffer.
 *
 * <p>Mutable and reused for every message of one connection: instances are confined to the connection's event loop and
 * are not thread-safe. The header arrays start at {@link #INITIAL_HEADERS} entries (or {@code maxHeaders}, if smaller)
 * and the parser doubles them, up to {@code maxHeaders}, when a head has more: a connection (or HTTP/2 stream) costs
 * ~300 bytes of arrays instead of ~1.8 KB for the default limit of 100, and one that grew keeps its arrays, so a
 * keep-alive connection allocates nothing once it has seen its largest head. Read the arrays through the fields after
 * a parse; do not keep references to them across one.
 */
public abstract sealed class HttpHead permits RequestHead, ResponseHead {
    public static final byte H_OTHER = 0, H_HOST = 1, H_CONTENT_LENGTH = 2, H_TRANSFER_ENCODING = 3, H_CONNECTION = 4,
            H_KEEP_ALIVE = 5, H_PROXY_CONNECTION = 6, H_TE = 7, H_TRAILER = 8, H_UPGRADE = 9, H_EXPECT = 10,
            H_X_FORWARDED_FOR = 11, H_X_FORWARDED_PROTO = 12, H_X_FORWARDED_HOST = 13, H_X_FORWARDED_PORT = 14,
            H_X_REAL_IP = 15;

    /** Minor version: 0 or 1 (the major version is always 1, anything else is an error). */
    public int versionMinor;
    /** Number of header fields parsed (entries {@code [0, headerCount)} of the arrays are valid). */
    public int headerCount;
    /** Header arrays' starting capacity: more than a typical request or response has (curl 3, browsers 10-15). */
    public static final int INITIAL_HEADERS = 16;

    /** Header name span {@code [nameStart[i], nameEnd[i])}. */
    public int[] nameStart, nameEnd;
    /** Header value span, trimmed of leading and trailing OWS (may be empty). */
    public int[] valueStart, valueEnd;
    /** {@code H_*} kind of each header. */
    public byte[] kind;
    /**
     * True for Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and any header named
     * by a token of a Connection header (except Host and Content-Length, which are never dropped: they carry framing
     * and routing).
     */
    public boolean[] hopByHop;
    /** Content-Length value, -1 if absent. */
    public long contentLength;
    /** The final transfer coding is chunked. */
    public boolean chunked;
    /** Connection may be reused after this message (see the parser's Javadoc for the rules). */
    public boolean keepAlive;
    /** An Upgrade header is present. */
    public boolean upgrade;
    /** A Connection header lists the {@code upgrade} token (an upgrade is only meaningful with it). */
    public boolean connectionUpgrade;
    /** A Connection header lists the {@code close} token. */
    public boolean connectionClose;
    /** The head occupies {@code [headStart, headStart + headLength)}, including the final CRLFCRLF. */
    public int headStart, headLength;
    /** Why parsing failed, or null. */
    public HttpParseError error;

    private final int maxHeaders;

    HttpHead(int maxHeaders) {
        if (maxHeaders < 1) throw new IllegalArgumentException("maxHeaders < 1");
        this.maxHeaders = maxHeaders;
        int n = Math.min(maxHeaders, INITIAL_HEADERS);
        nameStart = new int[n];
        nameEnd = new int[n];
        valueStart = new int[n];
        valueEnd = new int[n];
        kind = new byte[n];
        hopByHop = new boolean[n];
        reset();
    }

    /** The most header fields one head may have (the parser refuses more); the arrays grow up to it. */
    public final int maxHeaders() {
        return maxHeaders;
    }

    /**
     * Makes room for one more header: false when {@link #maxHeaders()} are already recorded. Doubles the arrays (capped
     * at the limit) when they are full, keeping entries {@code [0, headerCount)}; once per connection at most a few
     * times, never on a head that fits.
     */
    final boolean ensureRoomForOneMore() {
        int n = headerCount;
        if (n < kind.length) return true;
        if (n >= maxHeaders) return false;
        int cap = (int) Math.min(maxHeaders, 2L * kind.length);
        nameStart = java.util.Arrays.copyOf(nameStart, cap);
        nameEnd = java.util.Arrays.copyOf(nameEnd, cap);
        valueStart = java.util.Arrays.copyOf(valueStart, cap);
        valueEnd = java.util.Arrays.copyOf(valueEnd, cap);
        kind = java.util.Arrays.copyOf(kind, cap);
        hopByHop = java.util.Arrays.copyOf(hopByHop, cap);
        return true;
    }

    /** Clears everything for the next message (arrays are not cleared: only {@code [0, headerCount)} is meaningful). */
    public void reset() {
        versionMinor = 0;
        headerCount = 0;
        contentLength = -1;
        chunked = false;
        keepAlive = false;
        upgrade = false;
        connectionUpgrade = false;
        connectionClose = false;
        headStart = 0;
        headLength = 0;
        error = null;
    }

    /** Case-insensitive compare of header {@code headerIndex}'s name with a lower-case ASCII name; allocation-free. */
    public final boolean nameEquals(ByteBuf buf, int headerIndex, byte[] lowerCaseName) {
        return HttpChars.equalsLower(buf, nameStart[headerIndex], nameEnd[headerIndex], lowerCaseName);
    }

    /** Case-insensitive compare of header {@code headerIndex}'s (trimmed) value with a lower-case ASCII constant. */
    public final boolean valueEqualsIgnoreCase(ByteBuf buf, int headerIndex, byte[] lowerCaseValue) {
        return HttpChars.equalsLower(buf, valueStart[headerIndex], valueEnd[headerIndex], lowerCaseValue);
    }

    /** Index of the first header whose name equals {@code lowerCaseName} (case-insensitive), or -1. */
    public final int indexOf(ByteBuf buf, byte[] lowerCaseName) {
        for (int i = 0; i < headerCount; i++) {
            if (nameEquals(buf, i, lowerCaseName)) return i;
        }
        return -1;
    }

    /** Index of the first header of the given kind, or -1. */
    public final int indexOfKind(byte k) {
        for (int i = 0; i < headerCount; i++) {
            if (kind[i] == k) return i;
        }
        return -1;
    }

    /** Moves every recorded index by {@code delta} (the caller's buffer indexes moved between two parse calls). */
    void shift(int delta) {
        for (int i = 0; i < headerCount; i++) {
            nameStart[i] += delta;
            nameEnd[i] += delta;
            valueStart[i] += delta;
            valueEnd[i] += delta;
        }
        headStart += delta;
        shiftStartLine(delta);
    }

    abstract void shiftStartLine(int delta);
}
