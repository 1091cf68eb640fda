package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * Reusable per-connection (or per-loop) working memory of the router: the client address (set once per connection)
 * and the buffers the request path, host and condition values are copied into while a request is matched, so that
 * {@link RouteTable#match(ByteBuf, RequestHead, MatchScratch)} allocates nothing. Not thread-safe: confined to the
 * connection's event loop. Buffers grow (once) when a longer path or value is seen.
 */
public final class MatchScratch {
    static final int FAMILY_NONE = 0, FAMILY_V4 = 4, FAMILY_V6 = 6;

    // ---- client address (per connection)
    int family;
    int v4;
    long v6hi, v6lo;
    private byte[] remoteText;
    private InetAddress remote;

    // ---- per request: path (raw copy, normalised copy), host. One scratch per connection (or HTTP/2 stream): the
    // buffers start at the size of a typical path and host and double on the first request that needs more (a
    // connection then keeps them); the normalised copy exists only once a path needed normalising.
    byte[] raw = new byte[64];
    byte[] norm = EMPTY;
    /** The path the router matches on: {@code raw} (fast path) or {@code norm}; length {@code pathLen}. */
    byte[] path;
    int pathLen;
    int pathHash;
    byte[] host = new byte[32];
    /** Host length (lower-case, no port, no trailing dot), -1 when the request has no host. */
    int hostLen;
    /** Whether {@link #host} and {@link #hostLen} are the current request's (loaded on demand, per match). */
    boolean hostLoaded;
    /** {@code hostHashes[k]} is the hash of the last k bytes of the host, taken from the end (reversed host). */
    int[] hostHashes = new int[33];

    /** The buckets on the trie walk of one {@link UriTree#match}, tried deepest first; grows (rarely) with depth. */
    UriTree.Entry[][] buckets = new UriTree.Entry[16][];

    // ---- per condition evaluation
    private byte[] val = new byte[64];

    private static final byte[] EMPTY = new byte[0];

    /** A scratch with no client address (remote_addrs conditions then never match). */
    public MatchScratch() {
    }

    /** Sets the client address of the connection; call once per connection (null clears it). */
    public MatchScratch remoteAddress(InetAddress address) {
        remote = address;
        remoteText = null;
        family = FAMILY_NONE;
        if (address instanceof Inet4Address) {
            family = FAMILY_V4;
            v4 = IpMatcher.v4(address.getAddress(), 0);
        } else if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            if (IpMatcher.isV4Mapped(b)) {
                family = FAMILY_V4;
                v4 = IpMatcher.v4(b, 12);
            } else {
                family = FAMILY_V6;
                v6hi = IpMatcher.long8(b, 0);
                v6lo = IpMatcher.long8(b, 8);
            }
        }
        return this;
    }

    /** The textual client address for the {@code remote_addr} var, formatted once per connection on first use. */
    byte[] remoteText() {
        if (remoteText == null && remote != null) {
            String s = family == FAMILY_V4
                    ? ((v4 >>> 24) + "." + ((v4 >>> 16) & 255) + "." + ((v4 >>> 8) & 255) + "." + (v4 & 255))
                    : v6Text(v6hi, v6lo);
            remoteText = s.getBytes(StandardCharsets.US_ASCII);
        }
        return remoteText;
    }

    /** RFC 5952 text (lower-case hex, longest run of two or more zero groups as "::"), as nginx's $remote_addr. */
    static String v6Text(long hi, long lo) {
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) (hi >>> (48 - 16 * i)) & 0xffff;
            g[i + 4] = (int) (lo >>> (48 - 16 * i)) & 0xffff;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder b = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                b.append("::");
                i += bestLen - 1;
                continue;
            }
            if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
                b.append(':');
            }
            b.append(Integer.toHexString(g[i]));
        }
        return b.toString();
    }

    UriTree.Entry[][] growBuckets() {
        buckets = java.util.Arrays.copyOf(buckets, buckets.length * 2);
        return buckets;
    }

    /** Where the last loaded condition value lies. */
    byte[] refArr;
    int refOff, refLen;

    int ref(byte[] arr, int off, int len) {
        refArr = arr;
        refOff = off;
        refLen = len;
        return 0;
    }

    private byte[] val(int capacity) {
        if (val.length < capacity) {
            val = new byte[Math.max(capacity, val.length * 2)];
        }
        return val;
    }

    /** Copies buf[start, end) into the value buffer. */
    int copy(ByteBuf buf, int start, int end) {
        int len = end - start;
        byte[] v = val(len);
        buf.getBytes(start, v, 0, len);
        return ref(v, 0, len);
    }

    /** Decodes a query component ({@code %XX}, {@code +} as space; a malformed escape stays as is) into the value buffer. */
    int decode(ByteBuf buf, int start, int end) {
        byte[] v = val(end - start);
        int o = 0;
        for (int i = start; i < end; i++) {
            byte c = buf.getByte(i);
            if (c == '+') {
                c = ' ';
            } else if (c == '%' && i + 2 < end) {
                int hi = PathNormalizer.hex(buf.getByte(i + 1));
                int lo = PathNormalizer.hex(buf.getByte(i + 2));
                if (hi >= 0 && lo >= 0) {
                    c = (byte) (hi << 4 | lo);
                    i += 2;
                }
            }
            v[o++] = c;
        }
        return ref(v, 0, o);
    }

    /**
     * Copies the request path out of {@code buf} and normalises it (see {@link PathNormalizer}). Returns false when the
     * request has no path or its path is malformed or climbs above the root: nothing matches it.
     */
    boolean loadPath(ByteBuf buf, RequestHead head) {
        int start = RouteTable.pathStart(buf, head);
        int end = head.pathEnd;
        if (start == -2) {
            // absolute-form without a path: "http://host" means "/"
            raw[0] = '/';
            path = raw;
            pathLen = 1;
            pathHash = ByteMatch.hash(raw, 0, 1);
            return true;
        }
        if (start < 0) {
            return false;
        }
        int len = end - start;
        if (raw.length < len) {
            raw = new byte[Math.max(len, raw.length * 2)];
        }
        buf.getBytes(start, raw, 0, len);
        if (PathNormalizer.isNormal(raw, len)) {
            path = raw;
            pathLen = len;
        } else {
            if (norm.length < raw.length) {
                norm = new byte[raw.length];
            }
            int n = PathNormalizer.normalize(raw, len, norm);
            if (n < 0) {
                return false;
            }
            path = norm;
            pathLen = n;
        }
        pathHash = ByteMatch.hash(path, 0, pathLen);
        return true;
    }

    /**
     * Copies the request's host (absolute-form authority, else the Host header) lower-cased, without port or trailing
     * dot, into {@code host}; {@code hostLen} -1 when there is none.
     */
    void loadHost(ByteBuf buf, RequestHead head) {
        hostLoaded = true;
        int start;
        int end;
        int authority = RouteTable.authorityStart(buf, head);
        if (authority >= 0) {
            start = authority;
            end = head.pathEnd;
            for (int i = authority; i < head.pathEnd; i++) {
                byte c = buf.getByte(i);
                if (c == '/') {
                    end = i;
                    break;
                }
                if (c == '@') {
                    start = i + 1; // userinfo
                }
            }
        } else if (head.hostIndex >= 0) {
            start = head.valueStart[head.hostIndex];
            end = head.valueEnd[head.hostIndex];
        } else {
            hostLen = -1;
            return;
        }
        end = RouteTable.hostEnd(buf, start, end);
        int len = end - start;
        if (host.length < len) {
            host = new byte[Math.max(len, host.length * 2)];
        }
        buf.getBytes(start, host, 0, len);
        for (int i = 0; i < len; i++) {
            byte c = host[i];
            if (c >= 'A' && c <= 'Z') {
                host[i] = (byte) (c + 32);
            }
        }
        if (len > 0 && host[len - 1] == '.') {
            len--;
        }
        hostLen = len;
        if (hostHashes.length < len + 1) {
            hostHashes = new int[Math.max(len + 1, hostHashes.length * 2)];
        }
        int h = ByteMatch.SEED;
        hostHashes[0] = h;
        for (int k = 1; k <= len; k++) {
            h = ByteMatch.mix(h, host[len - k]);
            hostHashes[k] = h;
        }
    }
}
