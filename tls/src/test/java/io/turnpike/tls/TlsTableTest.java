package io.turnpike.tls;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class TlsTableTest {
    private static TlsTable.Entry entry(String id) {
        return new TlsTable.Entry(id, null, null, id);
    }

    @Test
    void exactThenLongestWildcardSuffixCaseInsensitive() {
        TlsTable.Builder b = new TlsTable.Builder();
        TlsTable.Entry exact = entry("exact");
        TlsTable.Entry wild = entry("wild");
        TlsTable.Entry deeper = entry("deeper");
        b.add("a.example.com", exact);
        b.add("*.example.com", wild);
        b.add("*.b.example.com", deeper);
        assertEquals("first-wins", b.add("A.example.com", entry("dup")) == null ? "added" : "first-wins");
        TlsTable t = b.build(List.of());
        assertEquals("exact", t.lookup("A.Example.COM").id);
        assertEquals("exact", t.lookup("a.example.com.").id);
        assertEquals("wild", t.lookup("x.example.com").id);
        assertEquals("wild", t.lookup("x.y.example.com").id);
        assertEquals("deeper", t.lookup("x.b.example.com").id);
        assertNull(t.lookup("example.com"));
        assertNull(t.lookup("example.org"));
        assertNull(t.lookup(null));
    }
}
