package io.turnpike.engine.router;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.turnpike.engine.router.RouterFixture.match;
import static io.turnpike.engine.router.RouterFixture.route;
import static io.turnpike.engine.router.RouterFixture.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routes match the normalised path; %2F never becomes a separator; malformed or above-root paths match nothing. */
class PathNormalizationTest {
    private static String norm(String in) {
        byte[] b = in.getBytes(StandardCharsets.ISO_8859_1);
        if (PathNormalizer.isNormal(b, b.length)) {
            return in;
        }
        byte[] out = new byte[b.length];
        int n = PathNormalizer.normalize(b, b.length, out);
        return n < 0 ? "REJECT" : new String(out, 0, n, StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "/a/b, /a/b",
            "/, /",
            "/a/./b, /a/b",
            "/a/b/../c, /a/c",
            "/a/b/.., /a/",
            "/a/b/., /a/b/",
            "/a/.., /",
            "/a//b, /a/b",
            "//a///b//, /a/b/",
            "/%61%62c, /abc",
            "/a/%2e%2E/b, /b",
            "/a/.%2e/b, /b",
            "/a/%2E/b, /a/b",
            "/a%2F..%2Fb, /a%2F..%2Fb",
            "/a/%2f../b, /a/%2F../b",
            "/a%5c..%5Cb, /a%5C..%5Cb",
            "/a%3ab, /a%3Ab",
            "/caf%C3%A9, /caf\u00c3\u00a9",
            "/.well-known/x, /.well-known/x",
            "/a/..., /a/...",
            "/.., REJECT",
            "/a/../.., REJECT",
            "/%2e%2e/etc, REJECT",
            "/a%zz, REJECT",
            "/a%2, REJECT",
            "/a%, REJECT",
    })
    void normalisation(String in, String expected) {
        assertEquals(expected, norm(in));
    }

    @Test
    void fastPathOnlyForPathsWithoutPercentDoubleSlashOrSlashDot() {
        assertTrue(PathNormalizer.isNormal("/api/v1/x.json".getBytes(), 14));
        assertFalse(PathNormalizer.isNormal("/a/.b".getBytes(), 5));
        assertFalse(PathNormalizer.isNormal("/a//b".getBytes(), 5));
        assertFalse(PathNormalizer.isNormal("/a%41".getBytes(), 5));
    }

    @Test
    void encodedSlashNeverOpensATraversal() {
        RouteTable t = table(route("public", "    uri: /public/*\n")
                + route("admin", "    uri: /admin/*\n")
                + route("secret", "    uri: /public/%2F/secret\n"));
        assertEquals("public", match(t, "/public/..%2Fadmin/x"), "one segment: stays under /public/");
        assertEquals("public", match(t, "/public%2F..%2Fadmin/x".replace("public%2F", "public/%2F")));
        assertNull(match(t, "/public%2F..%2Fadmin"), "%2F is not '/': /public/* does not even match");
        assertEquals("secret", match(t, "/public/%2f/secret"), "reserved escapes compare with upper-cased hex");
        assertEquals("admin", match(t, "/public/../admin/x"), "a real dot segment is resolved before matching");
        assertEquals("admin", match(t, "/public/%2e%2e/admin/x"), "%2e%2e is a dot segment");
    }

    @Test
    void matchingUsesTheNormalisedPath() {
        RouteTable t = table(route("exact", "    uri: /api/users\n")
                + route("param", "    uri: /u/:id\n")
                + route("utf8", "    uri: /caf\u00e9\n"));
        assertEquals("exact", match(t, "/api//users"));
        assertEquals("exact", match(t, "/api/./users"));
        assertEquals("exact", match(t, "/api/v1/../users"));
        assertEquals("exact", match(t, "/%61pi/users"));
        assertNull(match(t, "/api/users/"), "trailing slash is significant");
        assertEquals("param", match(t, "/u/%31"));
        assertNull(match(t, "/u/a%2Fb/c"), "%2F inside a parameter stays inside it");
        assertEquals("param", match(t, "/u/a%2Fb"));
        assertEquals("utf8", match(t, "/caf%C3%A9"), "UTF-8 escapes are decoded, routes may be written in UTF-8");
    }

    @Test
    void malformedOrAboveRootMatchesNothingEvenACatchAll() {
        RouteTable t = table(route("all", "    uri: /*\n"));
        assertEquals("all", match(t, "/anything"));
        assertNull(match(t, "/a%zz"));
        assertNull(match(t, "/../etc/passwd"));
        assertNull(match(t, "/a/%2e%2e/%2e%2e/etc"));
    }
}
