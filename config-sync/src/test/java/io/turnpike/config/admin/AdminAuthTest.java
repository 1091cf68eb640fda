package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.admin.AdminAuth.Outcome;
import io.turnpike.config.process.AdminKey;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminAuthTest {

    @Test
    void secretComparisonIsOverFixedLengthDigests() {
        assertTrue(AdminAuth.secretEquals("abc", "abc"));
        assertFalse(AdminAuth.secretEquals("abc", "abd"));
        assertFalse(AdminAuth.secretEquals("abc", "abcd"), "a prefix is not equal");
        assertFalse(AdminAuth.secretEquals("", "a"));
        assertTrue(AdminAuth.secretEquals("", ""));
        // whatever the inputs' lengths, what is compared is 32 bytes
        assertEquals(32, AdminAuth.digest("x").length);
        assertEquals(32, AdminAuth.digest("y".repeat(10_000)).length);
    }

    @Test
    void rolesAndOutcomes() {
        AdminAuth auth = new AdminAuth(List.of(new AdminKey("a", "admin-key", "admin"),
                new AdminKey("v", "viewer-key", "viewer")), true);
        assertEquals(Outcome.MISSING_KEY, auth.check(null, "GET"));
        assertEquals(Outcome.WRONG_KEY, auth.check("nope", "GET"));
        assertEquals(Outcome.WRONG_KEY, auth.check("admin-ke", "GET"));
        assertEquals(Outcome.OK, auth.check("admin-key", "PUT"));
        assertEquals(Outcome.OK, auth.check("viewer-key", "GET"));
        for (String m : List.of("PUT", "POST", "PATCH", "DELETE")) {
            assertEquals(Outcome.VIEWER_WRITE, auth.check("viewer-key", m));
        }
        assertEquals("invalid method for role viewer", Outcome.VIEWER_WRITE.description());
    }

    @Test
    void emptyKeyListIsRefusedUnlessKeysAreNotRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdminAuth(List.of(), true));
        assertTrue(e.getMessage().contains("admin_key_required"), e.getMessage());
        AdminAuth open = new AdminAuth(List.of(), false);
        assertEquals(Outcome.OK, open.check(null, "DELETE"));
        assertThrows(IllegalArgumentException.class,
                () -> new AdminAuth(List.of(new AdminKey("a", "k", "root")), true));
        assertThrows(IllegalArgumentException.class, () -> new AdminAuth(List.of(new AdminKey("a", "", "admin")), true));
    }

    @Test
    void allowListMatchesIpv4Ipv6AndMappedAddresses() throws Exception {
        AllowList l = new AllowList(List.of("127.0.0.0/24", "10.1.0.0/16", "fd00::/8", "2001:db8::1"));
        assertTrue(l.allows(InetAddress.getByName("127.0.0.5")));
        assertFalse(l.allows(InetAddress.getByName("127.0.1.5")));
        assertTrue(l.allows(InetAddress.getByName("10.1.200.3")));
        assertFalse(l.allows(InetAddress.getByName("10.2.0.1")));
        assertTrue(l.allows(InetAddress.getByName("fd12::3")));
        assertFalse(l.allows(InetAddress.getByName("fe80::1")));
        assertTrue(l.allows(InetAddress.getByName("2001:db8::1")));
        assertFalse(l.allows(InetAddress.getByName("2001:db8::2")));
        assertTrue(l.allows(InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
                127, 0, 0, 9})), "IPv4-mapped IPv6");
        AllowList odd = new AllowList(List.of("192.168.0.0/23"));
        assertTrue(odd.allows(InetAddress.getByName("192.168.1.255")));
        assertFalse(odd.allows(InetAddress.getByName("192.168.2.0")));
        assertTrue(new AllowList(List.of()).allows(InetAddress.getByName("8.8.8.8")), "empty = allow all (APISIX)");
        assertThrows(IllegalArgumentException.class, () -> new AllowList(List.of("example.com")));
        assertThrows(IllegalArgumentException.class, () -> new AllowList(List.of("10.0.0.0/33")));
    }
}
