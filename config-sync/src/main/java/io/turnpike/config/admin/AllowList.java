package io.turnpike.config.admin;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code deployment.admin.allow_admin}: IPv4 / IPv6 addresses and CIDRs. An empty list allows every client (APISIX:
 * "if we don't set any IP list, then any IP access is allowed"). IPv4-mapped IPv6 clients ({@code ::ffff:a.b.c.d})
 * are matched as IPv4. Immutable and thread-safe.
 */
public final class AllowList {

    private record Net(byte[] addr, int bits) {
    }

    private final List<Net> nets;

    public AllowList(List<String> cidrs) {
        List<Net> out = new ArrayList<>();
        for (String c : cidrs) {
            int slash = c.indexOf('/');
            String ip = slash < 0 ? c : c.substring(0, slash);
            if (!ip.contains(":") && !ip.matches("[0-9.]+")) {
                throw new IllegalArgumentException("allow_admin: not an IP or CIDR: " + c);
            }
            byte[] a;
            try {
                a = normalize(InetAddress.getByName(ip).getAddress()); // literal: never resolved
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("allow_admin: not an IP or CIDR: " + c, e);
            }
            int bits = slash < 0 ? a.length * 8 : Integer.parseInt(c.substring(slash + 1));
            if (bits < 0 || bits > a.length * 8) {
                throw new IllegalArgumentException("allow_admin: bad prefix length: " + c);
            }
            out.add(new Net(a, bits));
        }
        this.nets = List.copyOf(out);
    }

    public boolean allows(InetAddress client) {
        if (nets.isEmpty()) {
            return true;
        }
        byte[] a = normalize(client.getAddress());
        for (Net n : nets) {
            if (n.addr.length == a.length && prefixMatch(n.addr, a, n.bits)) {
                return true;
            }
        }
        return false;
    }

    private static boolean prefixMatch(byte[] net, byte[] a, int bits) {
        int full = bits / 8;
        for (int i = 0; i < full; i++) {
            if (net[i] != a[i]) {
                return false;
            }
        }
        int rest = bits % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (net[full] & mask) == (a[full] & mask);
    }

    private static byte[] normalize(byte[] a) {
        if (a.length == 16) {
            boolean mapped = a[10] == (byte) 0xff && a[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = a[i] == 0;
            }
            if (mapped) {
                return new byte[] {a[12], a[13], a[14], a[15]};
            }
        }
        return a;
    }
}
