package io.turnpike.config.regex;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

import java.nio.charset.StandardCharsets;

/**
 * A regular expression from configuration that runs against request data, in time linear in the input: RE2 syntax
 * on RE2/J (an automaton simulation, no backtracking), so no request can make one evaluation cost more than
 * {@code O(programSize × inputLength)} steps, with the program size bounded here at compile time
 * ({@link #MAX_PROGRAM_SIZE}). Patterns RE2 cannot run in linear time (backreferences, lookaround, possessive
 * quantifiers, atomic groups, conditionals) do not compile: {@link #compile} throws with the reason, and the
 * configuration is refused where it is validated ({@code ResourceCodec}) with the same call, so validation and the
 * data plane always agree.
 *
 * <p>Semantics kept from APISIX's {@code ngx.re.find(value, pattern, "jo")}: an unanchored search (PCRE
 * {@code find}, not a full match), on bytes — the pattern's UTF-8 bytes and the value's bytes are both read as
 * Latin-1 characters, so {@code .} is one byte, like PCRE without the {@code u} flag. Case-insensitive matching
 * ({@code ~*}) folds ASCII letters like PCRE; a non-ASCII byte in the pattern folds with its Latin-1 case partner
 * (PCRE in APISIX folds ASCII only).
 *
 * <p>Instances are immutable and shared between event loops. {@link #find} keeps its working state (an RE2/J
 * {@link Pattern} and {@link Matcher} of the calling thread's own) in a {@link ThreadLocal}, built on a thread's first
 * call: a thread-private pattern keeps RE2/J's machine pool uncontended, and the matcher is re-pointed at the value
 * without a new input wrapper. What RE2/J still allocates per search is its input cursor and a copy of the match
 * bounds (two small objects, measured in {@code LinearRegexTest}).
 */
public final class LinearRegex {
    /** Longest pattern accepted, in UTF-8 bytes. */
    public static final int MAX_PATTERN_BYTES = 1024;
    /**
     * Largest compiled program accepted, in RE2 instructions ({@code x{n,m}} costs about {@code m} copies of
     * {@code x}). One search visits at most this many states per input byte.
     */
    public static final int MAX_PROGRAM_SIZE = 1000;
    /** Where the text estimate stops a pattern before RE2/J compiles it (the estimate runs up to ~5x high). */
    private static final long ESTIMATE_CAP = 8L * MAX_PROGRAM_SIZE;

    private final String source;
    private final String latin1;
    private final int flags;
    private final int programSize;
    private final ThreadLocal<Search> perThread = new ThreadLocal<>();

    private LinearRegex(String source, String latin1, int flags, int programSize) {
        this.source = source;
        this.latin1 = latin1;
        this.flags = flags;
        this.programSize = programSize;
    }

    /**
     * Compiles a configured pattern. Throws {@link IllegalArgumentException} whose message says why a pattern is
     * refused (syntax RE2 does not support, too long, too large a program).
     */
    public static LinearRegex compile(String pattern, boolean caseInsensitive) {
        byte[] utf8 = pattern.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_PATTERN_BYTES) {
            throw new IllegalArgumentException("regex too long: " + utf8.length + " bytes, at most "
                    + MAX_PATTERN_BYTES);
        }
        String latin1 = new String(utf8, StandardCharsets.ISO_8859_1);
        unsupported(latin1);
        // RE2/J expands counted repetitions while compiling: bound the size first, or "((a{1000}){1000}){1000}"
        // would take the compiling thread down
        long estimate = SizeEstimate.of(latin1, ESTIMATE_CAP);
        if (estimate > ESTIMATE_CAP) {
            throw tooLarge(">" + ESTIMATE_CAP);
        }
        int flags = caseInsensitive ? Pattern.CASE_INSENSITIVE : 0;
        Pattern p;
        try {
            p = Pattern.compile(latin1, flags);
        } catch (PatternSyntaxException e) {
            if ("stack underflow".equals(e.getPattern())) { // RE2/J's report of an unmatched ')'
                throw new IllegalArgumentException("unexpected ): `" + pattern + "`");
            }
            String at = e.getPattern() == null || e.getPattern().isEmpty() ? "" : ": `" + e.getPattern() + "`";
            throw new IllegalArgumentException(e.getDescription() + at + explain(e.getDescription()));
        }
        int size = p.programSize();
        if (size > MAX_PROGRAM_SIZE) {
            throw tooLarge(Integer.toString(size));
        }
        return new LinearRegex(pattern, latin1, flags, size);
    }

    private static IllegalArgumentException tooLarge(String size) {
        return new IllegalArgumentException("regex too large: it compiles to " + size
                + " instructions, at most " + MAX_PROGRAM_SIZE + " (large counted repetitions such as {1,500} cost"
                + " one instruction per repeat)");
    }

    /** Constructs RE2 reports vaguely ("invalid or unsupported Perl syntax") are named here. */
    private static void unsupported(String p) {
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                i++;
                if (i < p.length()) {
                    char e = p.charAt(i);
                    // RE2 reads \1 to \7 followed by an octal digit as an octal escape, like PCRE does when
                    // there are fewer groups; alone (or \8, \9) it is a backreference
                    boolean octal = e <= '7' && i + 1 < p.length() && p.charAt(i + 1) >= '0' && p.charAt(i + 1) <= '7';
                    if (e >= '1' && e <= '9' && !octal || e == 'k' || e == 'g') {
                        throw new IllegalArgumentException("backreferences (\\" + e + ") are not supported:"
                                + " they need a backtracking engine");
                    }
                    if (e == 'Q') {
                        int end = p.indexOf("\\E", i + 1);
                        i = end < 0 ? p.length() : end + 1;
                    }
                }
            } else if (c == '[') {
                i = classEnd(p, i);
            } else if (c == '(' && i + 2 < p.length() && p.charAt(i + 1) == '?') {
                char k = p.charAt(i + 2);
                boolean lookbehind = k == '<' && i + 3 < p.length()
                        && (p.charAt(i + 3) == '=' || p.charAt(i + 3) == '!');
                if (k == '=' || k == '!' || lookbehind) {
                    throw new IllegalArgumentException("lookaround ((?" + k + (lookbehind ? p.charAt(i + 3) : "")
                            + "...)) is not supported: it needs a backtracking engine");
                }
                if (k == '>') {
                    throw new IllegalArgumentException("atomic groups ((?>...)) are not supported");
                }
                if (k == '(') {
                    throw new IllegalArgumentException("conditional groups ((?(...)...)) are not supported");
                }
            } else if ((c == '+') && i > 0 && isQuantifierEnd(p, i - 1)) {
                throw new IllegalArgumentException("possessive quantifiers (" + p.charAt(i - 1)
                        + "+) are not supported; write the quantifier without '+'");
            }
        }
    }

    private static boolean isQuantifierEnd(String p, int i) {
        char q = p.charAt(i);
        if (q == '*' || q == '+' || q == '?') {
            return i == 0 || p.charAt(i - 1) != '\\';
        }
        return q == '}' && SizeEstimate.repeatStart(p, i) >= 0;
    }

    /** Index of the ']' closing the class opened at {@code open} (or the end of the pattern). */
    static int classEnd(String p, int open) {
        int i = open + 1;
        if (i < p.length() && p.charAt(i) == '^') {
            i++;
        }
        if (i < p.length() && p.charAt(i) == ']') {
            i++; // a leading ']' is literal
        }
        for (; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[' && i + 1 < p.length() && p.charAt(i + 1) == ':') {
                int close = p.indexOf(":]", i + 2);
                if (close > 0) {
                    i = close + 1;
                }
            } else if (c == ']') {
                return i;
            }
        }
        return p.length();
    }

    private static String explain(String description) {
        return description.startsWith("invalid or unsupported Perl syntax") || description.startsWith("invalid escape")
                ? " (RE2 syntax: no backreferences, lookaround, possessive quantifiers or atomic groups)"
                : "";
    }

    /** The pattern as configured. */
    public String pattern() {
        return source;
    }

    public boolean caseInsensitive() {
        return (flags & Pattern.CASE_INSENSITIVE) != 0;
    }

    /** RE2 instructions of the compiled program (bounded by {@link #MAX_PROGRAM_SIZE}). */
    public int programSize() {
        return programSize;
    }

    /**
     * Whether the pattern matches anywhere in {@code b[off, off + len)} (bytes read as Latin-1). Thread-safe; each
     * thread uses its own matcher, built on its first call.
     */
    public boolean find(byte[] b, int off, int len) {
        Search s = perThread.get();
        if (s == null) {
            s = new Search(Pattern.compile(latin1, flags));
            perThread.set(s);
        }
        s.chars.set(b, off, len);
        boolean found = s.matcher.reset().find();
        s.chars.set(null, 0, 0); // hold no reference to request bytes
        return found;
    }

    /**
     * As {@link #find}, also reporting where the match and its groups are: on a match, {@code spans[2g]} and
     * {@code spans[2g + 1]} are the start and end of group {@code g} relative to {@code off} (-1 for a group that did
     * not take part), for {@code g} from 0 to {@link #groupCount()} (as many as {@code spans} holds). Returns false
     * when there is no match.
     */
    public boolean findGroups(byte[] b, int off, int len, int[] spans) {
        Search s = perThread.get();
        if (s == null) {
            s = new Search(Pattern.compile(latin1, flags));
            perThread.set(s);
        }
        s.chars.set(b, off, len);
        try {
            if (!s.matcher.reset().find()) {
                return false;
            }
            int groups = Math.min(s.matcher.groupCount(), spans.length / 2 - 1);
            for (int g = 0; g <= groups; g++) {
                spans[2 * g] = s.matcher.start(g);
                spans[2 * g + 1] = s.matcher.end(g);
            }
            return true;
        } finally {
            s.chars.set(null, 0, 0);
        }
    }

    /** Capturing groups in the pattern. */
    public int groupCount() {
        return Pattern.compile(latin1, flags).groupCount();
    }

    @Override
    public String toString() {
        return source;
    }

    /** One thread's matcher over a re-pointable byte view. */
    private static final class Search {
        final Latin1Chars chars = new Latin1Chars();
        final Matcher matcher;

        Search(Pattern p) {
            matcher = p.matcher(chars);
        }
    }

    /** A reusable Latin-1 {@link CharSequence} view of a byte range. */
    static final class Latin1Chars implements CharSequence {
        private byte[] b;
        private int off;
        private int len;

        void set(byte[] b, int off, int len) {
            this.b = b;
            this.off = off;
            this.len = len;
        }

        @Override
        public int length() {
            return len;
        }

        @Override
        public char charAt(int index) {
            if (index < 0 || index >= len) {
                throw new IndexOutOfBoundsException(index);
            }
            return (char) (b[off + index] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new String(b, off + start, end - start, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return new String(b, off, len, StandardCharsets.ISO_8859_1);
        }
    }
}
