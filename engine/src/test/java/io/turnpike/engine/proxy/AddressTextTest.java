package io.turnpike.engine.proxy;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The client address text of X-Forwarded-For / X-Real-IP is exactly what {@code InetAddress#getHostAddress} gives. */
class AddressTextTest {
    private static void same(InetAddress a) {
        assertEquals(a.getHostAddress(), new String(Http1ServerConnection.addressText(a), StandardCharsets.US_ASCII));
    }

    @Test
    void ipv4EdgesAndRandomAddresses() throws Exception {
        int[] octets = {0, 1, 9, 10, 11, 99, 100, 101, 199, 200, 249, 250, 255};
        for (int a : octets) {
            for (int b : octets) {
                same(InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) (255 - a), (byte) (b / 2)}));
            }
        }
        Random r = new Random(42);
        byte[] addr = new byte[4];
        for (int i = 0; i < 10_000; i++) {
            r.nextBytes(addr);
            same(InetAddress.getByAddress(addr));
        }
    }

    @Test
    void ipv6AddressesGoThroughTheJdk() throws Exception {
        same(InetAddress.getByName("::1"));
        same(InetAddress.getByName("2001:db8::8a2e:370:7334"));
        same(InetAddress.getByName("fe80::1%1"));
    }
}
