package io.turnpike.config.regex;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The linear-time regex: APISIX semantics (search, bytes), refused constructs, size bounds, hostile inputs. */
class LinearRegexTest {
    private static boolean find(String pattern, boolean ci, String value) {
        byte[] b = ("xx" + value + "yy").getBytes(StandardCharsets.UTF_8);
        LinearRegex r = LinearRegex.compile(pattern, ci);
        return r.find(b, 2, b.length - 4);
    }

    private static String refused(String pattern) {
        return assertThrows(IllegalArgumentException.class, () -> LinearRegex.compile(pattern, false), pattern)
                .getMessage();
    }

    @Test
    void searchesLikePcreFind() {
        assertTrue(find("China.*", false, "in China now"), "unanchored search, not a full match");
        assertFalse(find("China", false, "china"));
        assertTrue(find("^[0-9]+$", false, "123"));
        assertFalse(find("^[0-9]+$", false, "12a"), "anchors bind to the value, not to the surrounding bytes");
        assertFalse(find("^x", false, "a"), "the view starts at the offset: the 'xx' before it is not seen");
        assertFalse(find("y$", false, "a"), "the view ends at offset + length");
        assertTrue(find("", false, ""));
        assertTrue(find("\\d{3}-\\w+\\s", false, "call 555-abc now"));
        assertTrue(find("(?P<v>v[0-9])|(?:beta)", false, "api-v2"));
    }

    @Test
    void caseInsensitiveFoldsAscii() {
        assertTrue(find("^curl/", true, "CURL/8.0"));
        assertTrue(find("[a-c]+X", true, "ABCx"));
        assertFalse(find("^curl/", false, "CURL/8.0"));
        assertFalse(find("s", true, "\u017f"), "a pure-ASCII pattern folds ASCII only (ſ is two bytes here)");
    }

    @Test
    void valuesAreBytes() {
        // é is two UTF-8 bytes: '.' is one byte, as in PCRE without the u flag
        assertTrue(find("^..$", false, "é"));
        assertFalse(find("^.$", false, "é"));
        assertTrue(find("^é$", false, "é"), "the pattern's UTF-8 bytes match the value's");
        byte[] raw = {(byte) 0xff, 'a'};
        assertTrue(LinearRegex.compile("\\xffa", false).find(raw, 0, 2), "\\xff is the byte 0xff");
    }

    @Test
    void backtrackingConstructsAreRefusedWithTheReason() {
        assertTrue(refused("(a)\\1").contains("backreferences (\\1) are not supported"), refused("(a)\\1"));
        assertTrue(refused("(?<n>a)\\k<n>").contains("backreferences (\\k)"));
        assertTrue(refused("foo(?=bar)").contains("lookaround ((?=...)) is not supported"), refused("foo(?=bar)"));
        assertTrue(refused("foo(?!bar)").contains("lookaround ((?!...))"));
        assertTrue(refused("(?<=a)b").contains("lookaround ((?<=...))"));
        assertTrue(refused("(?<!a)b").contains("lookaround ((?<!...))"));
        assertTrue(refused("a++b").contains("possessive quantifiers (++) are not supported"), refused("a++b"));
        assertTrue(refused("a{2}+").contains("possessive quantifiers (}+)"), refused("a{2}+"));
        assertTrue(refused("(?>a|ab)c").contains("atomic groups"));
        assertTrue(refused("(?(1)a|b)").contains("conditional groups"));
        assertTrue(refused("(unclosed").contains("missing closing )"), refused("(unclosed"));
        assertTrue(refused("a{1001}").contains("invalid repeat count"), refused("a{1001}"));
        assertEquals("unexpected ): `a)`", refused("a)"));
        assertTrue(refused("a\\Z").startsWith("invalid escape sequence: `\\Z` (RE2 syntax"), refused("a\\Z"));
        // valid look-alikes are kept
        LinearRegex.compile("\\12", false); // octal escape, as in RE2 and in PCRE without 12 groups
        LinearRegex.compile("[(?=]\\+\\++[\\d]", false);
        LinearRegex.compile("(?<name>a)(?i)b\\Q(?=\\1\\E", false);
    }

    @Test
    void sizeIsBoundedBeforeCompiling() {
        long t0 = System.nanoTime();
        String nested = refused("((a{1000}){1000}){1000}");
        assertTrue(nested.contains("regex too large"), nested);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused before RE2/J expands it");
        assertTrue(refused("[a-z]{0,999}x").contains("at most " + LinearRegex.MAX_PROGRAM_SIZE), "2,000 instructions");
        assertTrue(refused("a".repeat(LinearRegex.MAX_PATTERN_BYTES + 1)).contains("regex too long: 1025 bytes"));
        LinearRegex ok = LinearRegex.compile("^/api/v[0-9]+/users/[a-z0-9-]{1,64}$", false);
        assertTrue(ok.programSize() <= LinearRegex.MAX_PROGRAM_SIZE);
        for (String p : new String[] {"[a-z]{0,400}x", "(?:(?:(?:a){9}){9}){9}", "(?i:ab){300}", "(a{2,3}){1,100}",
                "((?:ab){20}){20}", "(?P<x>a|b)\\Q{}{\\E[{]{2}"}) {
            LinearRegex r = LinearRegex.compile(p, false); // not refused by the estimate
            assertTrue(SizeEstimate.of(p, 1_000_000) >= r.programSize(), "the estimate bounds the real size: " + p);
        }
    }

    @Test
    void catastrophicPatternsRunInLinearTime() {
        // java.util.regex needs exponential / cubic time for these; an automaton needs one pass
        String[][] cases = {{"a.*a.*a.*b", "a", "3000"}, {"^(a|a)*?$", "a", "30"}, {"^(a|a)*?$x", "a", "60000"},
                {"a.*a.*a.*b", "a", "60000"}, {"(x+x+)+y", "x", "60000"}};
        for (String[] c : cases) {
            byte[] v = c[1].repeat(Integer.parseInt(c[2])).getBytes(StandardCharsets.US_ASCII);
            LinearRegex r = LinearRegex.compile(c[0], false);
            long t0 = System.nanoTime();
            boolean found = r.find(v, 0, v.length);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(c[0].equals("^(a|a)*?$"), found, c[0]);
            assertTrue(ms < 2_000, c[0] + " on " + c[2] + " bytes took " + ms + " ms");
        }
    }

    @Test
    void eachThreadUsesItsOwnMatcher() throws Exception {
        LinearRegex r = LinearRegex.compile("^id-[0-9]+$", false);
        byte[] yes = "id-123".getBytes(StandardCharsets.US_ASCII);
        byte[] no = "id-12x".getBytes(StandardCharsets.US_ASCII);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int k = t;
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) {
                        boolean even = (i + k) % 2 == 0;
                        byte[] v = even ? yes : no;
                        if (r.find(v, 0, v.length) != even) {
                            throw new AssertionError("wrong answer at " + i);
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    /** Bytes allocated per search in the steady state, on this thread (printed; bounded loosely). */
    @Test
    void allocationPerSearch() {
        LinearRegex r = LinearRegex.compile("^Mozilla/[0-9.]+ \\(.*(Android|iPhone)", true);
        byte[] v = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36".getBytes(StandardCharsets.US_ASCII);
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int hits = 0;
        for (int i = 0; i < 100_000; i++) { // warm-up (JIT)
            hits += r.find(v, 0, v.length) ? 1 : 0;
        }
        int n = 100_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            hits += r.find(v, 0, v.length) ? 1 : 0;
        }
        double perSearch = (double) (mx.getThreadAllocatedBytes(tid) - before) / n;
        System.out.printf("regex: %.1f bytes allocated per search (%d hits)%n", perSearch, hits);
        assertEquals(200_000, hits);
        assertTrue(perSearch <= 64, "bytes per search: " + perSearch);
    }
}
