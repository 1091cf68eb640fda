package io.turnpike.engine.router;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * A route's {@code remote_addrs}: IPv4 and IPv6 addresses and CIDRs, compiled to masked integers and matched against
 * the client address held by {@link MatchScratch} (an IPv4-mapped IPv6 client counts as IPv4). Allocation-free.
 */
final class IpMatcher {
    private final int[] v4Net;
    private final int[] v4Mask;
    private final long[] v6Hi, v6Lo, v6MaskHi, v6MaskLo;

    private IpMatcher(int[] v4Net, int[] v4Mask, long[] v6Hi, long[] v6Lo, long[] v6MaskHi, long[] v6MaskLo) {
        this.v4Net = v4Net;
        this.v4Mask = v4Mask;
        this.v6Hi = v6Hi;
        this.v6Lo = v6Lo;
        this.v6MaskHi = v6MaskHi;
        this.v6MaskLo = v6MaskLo;
    }

    /** Compiles a list of "ip" or "ip/prefix"; throws IllegalArgumentException on anything else. Null when empty. */
    static IpMatcher compile(List<String> addrs) {
        if (addrs == null || addrs.isEmpty()) {
            return null;
        }
        List<int[]> v4 = new ArrayList<>();
        List<long[]> v6 = new ArrayList<>();
        for (String a : addrs) {
            int slash = a.indexOf('/');
            String ip = slash >= 0 ? a.substring(0, slash) : a;
            if (!looksLikeIpLiteral(ip)) {
                throw new IllegalArgumentException("invalid IP address: " + a);
            }
            byte[] b;
            try {
                b = InetAddress.getByName(ip).getAddress(); // a literal: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("invalid IP address: " + a);
            }
            boolean isV4 = b.length == 4;
            int max = isV4 ? 32 : 128;
            int prefix = max;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(a.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > max) {
                    throw new IllegalArgumentException("invalid CIDR: " + a);
                }
            }
            if (isV4) {
                int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
                v4.add(new int[] {v4(b, 0) & mask, mask});
            } else {
                long mHi = prefix >= 64 ? -1L : prefix == 0 ? 0 : -1L << (64 - prefix);
                long mLo = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
                v6.add(new long[] {long8(b, 0) & mHi, long8(b, 8) & mLo, mHi, mLo});
            }
        }
        int[] n4 = new int[v4.size()];
        int[] m4 = new int[v4.size()];
        for (int i = 0; i < n4.length; i++) {
            n4[i] = v4.get(i)[0];
            m4[i] = v4.get(i)[1];
        }
        long[] h = new long[v6.size()];
        long[] l = new long[v6.size()];
        long[] mh = new long[v6.size()];
        long[] ml = new long[v6.size()];
        for (int i = 0; i < h.length; i++) {
            long[] x = v6.get(i);
            h[i] = x[0];
            l[i] = x[1];
            mh[i] = x[2];
            ml[i] = x[3];
        }
        return new IpMatcher(n4, m4, h, l, mh, ml);
    }

    private static boolean looksLikeIpLiteral(String ip) {
        if (ip.isEmpty()) {
            return false;
        }
        if (ip.indexOf(':') >= 0) {
            for (int i = 0; i < ip.length(); i++) {
                char c = ip.charAt(i);
                if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                    return false;
                }
            }
            return true;
        }
        int dots = 0;
        for (int i = 0; i < ip.length(); i++) {
            char c = ip.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }

    boolean matches(MatchScratch s) {
        if (s.family == MatchScratch.FAMILY_V4) {
            int a = s.v4;
            for (int i = 0; i < v4Net.length; i++) {
                if ((a & v4Mask[i]) == v4Net[i]) {
                    return true;
                }
            }
        } else if (s.family == MatchScratch.FAMILY_V6) {
            long hi = s.v6hi;
            long lo = s.v6lo;
            for (int i = 0; i < v6Hi.length; i++) {
                if ((hi & v6MaskHi[i]) == v6Hi[i] && (lo & v6MaskLo[i]) == v6Lo[i]) {
                    return true;
                }
            }
        }
        return false;
    }

    static int v4(byte[] b, int off) {
        return (b[off] & 255) << 24 | (b[off + 1] & 255) << 16 | (b[off + 2] & 255) << 8 | (b[off + 3] & 255);
    }

    static long long8(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 255);
        }
        return v;
    }

    static boolean isV4Mapped(byte[] b) {
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
