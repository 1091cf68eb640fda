package io.turnpike.engine.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.config.regex.LinearRegex;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A compiled APISIX {@code vars} expression (lua-resty-expr v1): a list of {@code [var, op, value]} that must all hold,
 * {@code [var, "!", op, value]} negation, the two-element {@code [var, value]} short form of {@code ==}, and nested
 * {@code ["AND"|"OR"|"!AND"|"!OR", expr, expr, ...]}. Everything is prepared at compile time (names as bytes, numbers
 * parsed, regexes compiled) and evaluated on bytes copied into the {@link MatchScratch}. {@code ~~} and {@code ~*}
 * run on {@link LinearRegex} (RE2/J: time linear in the value, no backtracking), which allocates two small objects per
 * evaluation.
 */
abstract sealed class VarsExpr permits VarsExpr.Logic, VarsExpr.Leaf {
    abstract boolean eval(ByteBuf buf, RequestHead head, MatchScratch s);

    /** Whether evaluating this expression may allocate (regex operators). */
    abstract boolean usesRegex();

    /** Compiles a route's vars; null when there is no condition. Throws IllegalArgumentException when invalid. */
    static VarsExpr compile(JsonNode rules) {
        if (rules == null || rules.isNull()) {
            return null;
        }
        if (!rules.isArray()) {
            throw new IllegalArgumentException("vars: invalid argument vars");
        }
        if (rules.size() == 0) {
            return null;
        }
        if (!rules.get(0).isArray() && !isLogic(rules.get(0))) {
            throw new IllegalArgumentException("vars: rule should be wrapped inside brackets");
        }
        return compileRule(rules);
    }

    private static boolean isLogic(JsonNode n) {
        if (!n.isTextual()) {
            return false;
        }
        String op = n.textValue().toUpperCase(Locale.ROOT);
        return op.equals("AND") || op.equals("OR") || op.equals("!AND") || op.equals("!OR");
    }

    private static VarsExpr compileRule(JsonNode rule) {
        if (!rule.isArray() || rule.size() == 0) {
            throw new IllegalArgumentException("vars: rule too short");
        }
        if (rule.get(0).isArray()) {
            VarsExpr[] parts = new VarsExpr[rule.size()];
            for (int i = 0; i < parts.length; i++) {
                parts[i] = compileRule(rule.get(i));
            }
            return new Logic(false, false, parts);
        }
        if (isLogic(rule.get(0))) {
            String op = rule.get(0).textValue().toUpperCase(Locale.ROOT);
            if (rule.size() <= 2) {
                throw new IllegalArgumentException("vars: rule too short");
            }
            VarsExpr[] parts = new VarsExpr[rule.size() - 1];
            for (int i = 1; i < rule.size(); i++) {
                parts[i - 1] = compileRule(rule.get(i));
            }
            return new Logic(op.endsWith("OR"), op.startsWith("!"), parts);
        }
        return Leaf.compile(rule);
    }

    static final class Logic extends VarsExpr {
        private final boolean or;
        private final boolean not;
        private final VarsExpr[] parts;

        Logic(boolean or, boolean not, VarsExpr[] parts) {
            this.or = or;
            this.not = not;
            this.parts = parts;
        }

        @Override
        boolean eval(ByteBuf buf, RequestHead head, MatchScratch s) {
            boolean r = !or;
            for (VarsExpr p : parts) {
                if (p.eval(buf, head, s) == or) {
                    r = or;
                    break;
                }
            }
            return r != not;
        }

        @Override
        boolean usesRegex() {
            for (VarsExpr p : parts) {
                if (p.usesRegex()) {
                    return true;
                }
            }
            return false;
        }
    }

    static final class Leaf extends VarsExpr {
        static final int SRC_HEADER = 0, SRC_ARG = 1, SRC_COOKIE = 2, SRC_URI = 3, SRC_HOST = 4, SRC_REMOTE_ADDR = 5,
                SRC_METHOD = 6, SRC_REQUEST_URI = 7, SRC_QUERY = 8;
        static final int OP_EQ = 0, OP_NE = 1, OP_GT = 2, OP_LT = 3, OP_GE = 4, OP_LE = 5, OP_RE = 6, OP_RE_I = 7,
                OP_IN = 8, OP_HAS = 9;

        final int source;
        /** Header name (lower case, '-' for '_'), arg or cookie name. */
        final byte[] name;
        final int op;
        final boolean not;
        /** Value as bytes (UTF-8) for string comparisons; null when the value is JSON null or missing. */
        final byte[] str;
        final boolean valueIsNumber;
        /** The value as a number (NaN when it is not one). */
        final double num;
        final byte[][] list;
        final LinearRegex regex;
        /** The value is a boolean or an object: Lua equality with a string var never holds. */
        final boolean neverEqual;

        private Leaf(int source, byte[] name, int op, boolean not, byte[] str, boolean valueIsNumber, double num,
                     byte[][] list, LinearRegex regex, boolean neverEqual) {
            this.neverEqual = neverEqual;
            this.source = source;
            this.name = name;
            this.op = op;
            this.not = not;
            this.str = str;
            this.valueIsNumber = valueIsNumber;
            this.num = num;
            this.list = list;
            this.regex = regex;
        }

        static Leaf compile(JsonNode e) {
            JsonNode var;
            JsonNode opNode;
            JsonNode value;
            boolean not = false;
            if (e.size() == 4) {
                if (!e.get(1).isTextual() || !e.get(1).textValue().equals("!")) {
                    throw new IllegalArgumentException("vars: bad 'not' expression " + e);
                }
                not = true;
                var = e.get(0);
                opNode = e.get(2);
                value = e.get(3);
            } else if (e.size() == 2 || e.size() == 3) {
                var = e.get(0);
                opNode = e.get(1);
                value = e.size() == 3 ? e.get(2) : null;
            } else {
                throw new IllegalArgumentException("vars: invalid expression " + e);
            }
            if (!var.isTextual()) {
                throw new IllegalArgumentException("vars: invalid expression " + e);
            }
            String opText = opNode.isTextual() ? opNode.textValue().toLowerCase(Locale.ROOT) : null;
            int op = opText == null ? -1 : op(opText);
            if (value == null && op < 0) {
                // [var, value]: the short form of ==
                value = opNode;
                op = OP_EQ;
            }
            if (op < 0) {
                throw new IllegalArgumentException("vars: invalid operator '" + (opText == null ? opNode : opText)
                        + "' in " + e);
            }
            String v = var.textValue().toLowerCase(Locale.ROOT);
            int source;
            byte[] name = null;
            if (v.startsWith("http_") && v.length() > 5) {
                source = SRC_HEADER;
                name = v.substring(5).replace('_', '-').getBytes(StandardCharsets.US_ASCII);
            } else if (v.startsWith("arg_") && v.length() > 4) {
                source = SRC_ARG;
                name = var.textValue().substring(4).getBytes(StandardCharsets.UTF_8);
            } else if (v.startsWith("cookie_") && v.length() > 7) {
                source = SRC_COOKIE;
                name = var.textValue().substring(7).getBytes(StandardCharsets.UTF_8);
            } else {
                source = switch (v) {
                    case "uri" -> SRC_URI;
                    case "host" -> SRC_HOST;
                    case "remote_addr" -> SRC_REMOTE_ADDR;
                    case "request_method" -> SRC_METHOD;
                    case "request_uri" -> SRC_REQUEST_URI;
                    case "args", "query_string" -> SRC_QUERY;
                    default -> throw new IllegalArgumentException("vars: unsupported variable '" + var.textValue()
                            + "' in " + e);
                };
            }
            byte[] str = null;
            boolean isNumber = false;
            double num = Double.NaN;
            byte[][] list = null;
            LinearRegex regex = null;
            if (value != null && !value.isNull()) {
                if (value.isNumber()) {
                    isNumber = true;
                    num = value.doubleValue();
                    str = value.asText().getBytes(StandardCharsets.UTF_8);
                } else if (value.isTextual()) {
                    str = value.textValue().getBytes(StandardCharsets.UTF_8);
                    num = parseNumber(str, 0, str.length);
                } else if (value.isBoolean()) {
                    str = null; // a boolean never equals a string var
                } else if (value.isArray()) {
                    List<byte[]> l = new ArrayList<>();
                    for (JsonNode x : value) {
                        // lua-resty-expr compares with Lua equality: only strings can equal a string var
                        if (x.isTextual()) {
                            l.add(x.textValue().getBytes(StandardCharsets.UTF_8));
                        }
                    }
                    list = l.toArray(new byte[0][]);
                }
            }
            boolean neverEqual = value != null && !value.isNull() && str == null && list == null;
            if (op == OP_RE || op == OP_RE_I) {
                if (str == null || isNumber) {
                    throw new IllegalArgumentException("vars: regex must be a string in " + e);
                }
                try {
                    // the same compile (engine, flags) as config-sync's validation of vars
                    regex = LinearRegex.compile(value.textValue(), op == OP_RE_I);
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("vars: invalid regex '" + value.textValue() + "' in " + e
                            + ": " + ex.getMessage());
                }
            }
            if (op == OP_IN && list == null) {
                list = new byte[0][];
            }
            return new Leaf(source, name, op, not, str, isNumber, num, list, regex, neverEqual);
        }

        private static int op(String s) {
            return switch (s) {
                case "==" -> OP_EQ;
                case "~=" -> OP_NE;
                case ">" -> OP_GT;
                case "<" -> OP_LT;
                case ">=" -> OP_GE;
                case "<=" -> OP_LE;
                case "~~" -> OP_RE;
                case "~*" -> OP_RE_I;
                case "in" -> OP_IN;
                case "has" -> OP_HAS;
                default -> -1;
            };
        }

        @Override
        boolean usesRegex() {
            return regex != null;
        }

        @Override
        boolean eval(ByteBuf buf, RequestHead head, MatchScratch s) {
            boolean r;
            if (op == OP_HAS) {
                r = has(buf, head, s);
            } else {
                r = compare(load(buf, head, s, 0), s);
            }
            return r != not;
        }

        /** {@link #load} result for an absent var; otherwise the value is at {@code s.refArr/refOff/refLen}. */
        private static final int ABSENT = -1;

        private int load(ByteBuf buf, RequestHead head, MatchScratch s, int occurrence) {
            switch (source) {
                case SRC_URI -> {
                    return s.ref(s.path, 0, s.pathLen);
                }
                case SRC_HOST -> {
                    if (!s.hostLoaded) {
                        s.loadHost(buf, head);
                    }
                    return s.hostLen < 0 ? ABSENT : s.ref(s.host, 0, s.hostLen);
                }
                case SRC_REMOTE_ADDR -> {
                    byte[] t = s.remoteText();
                    return t == null ? ABSENT : s.ref(t, 0, t.length);
                }
                case SRC_METHOD -> {
                    return s.copy(buf, head.methodStart, head.methodEnd);
                }
                case SRC_REQUEST_URI -> {
                    return s.copy(buf, head.targetStart, head.targetEnd);
                }
                case SRC_QUERY -> {
                    int qs = queryStart(buf, head);
                    return qs < 0 ? ABSENT : s.copy(buf, qs, queryEnd(buf, head, qs));
                }
                case SRC_HEADER -> {
                    int seen = 0;
                    for (int i = 0; i < head.headerCount; i++) {
                        if (head.nameEquals(buf, i, name) && seen++ == occurrence) {
                            return s.copy(buf, head.valueStart[i], head.valueEnd[i]);
                        }
                    }
                    return ABSENT;
                }
                case SRC_ARG -> {
                    return loadArg(buf, head, s, occurrence);
                }
                default -> {
                    return occurrence == 0 ? loadCookie(buf, head, s) : ABSENT;
                }
            }
        }

        private static int queryStart(ByteBuf buf, RequestHead head) {
            return head.pathEnd < head.targetEnd && buf.getByte(head.pathEnd) == '?' ? head.pathEnd + 1 : -1;
        }

        private static int queryEnd(ByteBuf buf, RequestHead head, int qs) {
            int e = buf.indexOf(qs, head.targetEnd, (byte) '#');
            return e < 0 ? head.targetEnd : e;
        }

        private int loadArg(ByteBuf buf, RequestHead head, MatchScratch s, int occurrence) {
            int qs = queryStart(buf, head);
            if (qs < 0) {
                return ABSENT;
            }
            int qe = queryEnd(buf, head, qs);
            int seen = 0;
            int i = qs;
            while (i <= qe) {
                int amp = buf.indexOf(i, qe, (byte) '&');
                int end = amp < 0 ? qe : amp;
                int eq = buf.indexOf(i, end, (byte) '=');
                int nameEnd = eq < 0 ? end : eq;
                if (decodedEquals(buf, i, nameEnd, name) && seen++ == occurrence) {
                    return eq < 0 ? s.copy(buf, end, end) : s.decode(buf, eq + 1, end);
                }
                i = end + 1;
            }
            return ABSENT;
        }

        /** Whether the query component bytes [start, end) decode (%XX, '+') to {@code expected}. */
        private static boolean decodedEquals(ByteBuf buf, int start, int end, byte[] expected) {
            int k = 0;
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
                if (k >= expected.length || expected[k++] != c) {
                    return false;
                }
            }
            return k == expected.length;
        }

        private int loadCookie(ByteBuf buf, RequestHead head, MatchScratch s) {
            for (int h = 0; h < head.headerCount; h++) {
                if (!head.nameEquals(buf, h, COOKIE)) {
                    continue;
                }
                int i = head.valueStart[h];
                int ve = head.valueEnd[h];
                while (i < ve) {
                    while (i < ve && (buf.getByte(i) == ' ' || buf.getByte(i) == '\t')) {
                        i++;
                    }
                    int semi = buf.indexOf(i, ve, (byte) ';');
                    int end = semi < 0 ? ve : semi;
                    int eq = buf.indexOf(i, end, (byte) '=');
                    if (eq > 0 && eq - i == name.length && ByteMatch.equals(buf, i, name, 0, name.length)) {
                        int vs = eq + 1;
                        int vend = end;
                        while (vend > vs && (buf.getByte(vend - 1) == ' ' || buf.getByte(vend - 1) == '\t')) {
                            vend--;
                        }
                        return s.copy(buf, vs, vend);
                    }
                    i = end + 1;
                }
            }
            return ABSENT;
        }

        private boolean compare(int present, MatchScratch s) {
            byte[] b = s.refArr;
            int off = s.refOff;
            int len = s.refLen;
            switch (op) {
                case OP_EQ, OP_NE -> {
                    boolean eq;
                    if (neverEqual) {
                        eq = false;
                    } else if (valueIsNumber) {
                        eq = present != ABSENT && parseNumber(b, off, len) == num;
                    } else if (str == null) {
                        eq = present == ABSENT; // [var, "==", null]: the var is absent
                    } else {
                        eq = present != ABSENT && Arrays.equals(b, off, off + len, str, 0, str.length);
                    }
                    return op == OP_EQ ? eq : !eq;
                }
                case OP_GT, OP_LT, OP_GE, OP_LE -> {
                    if (present == ABSENT || Double.isNaN(num)) {
                        return false;
                    }
                    double x = parseNumber(b, off, len);
                    if (Double.isNaN(x)) {
                        return false;
                    }
                    return switch (op) {
                        case OP_GT -> x > num;
                        case OP_LT -> x < num;
                        case OP_GE -> x >= num;
                        default -> x <= num;
                    };
                }
                case OP_RE, OP_RE_I -> {
                    return present != ABSENT && regex.find(b, off, len);
                }
                default -> { // OP_IN
                    if (present == ABSENT) {
                        return false;
                    }
                    for (byte[] x : list) {
                        if (Arrays.equals(b, off, off + len, x, 0, x.length)) {
                            return true;
                        }
                    }
                    return false;
                }
            }
        }

        /**
         * {@code has}: lua-resty-expr is true when a table-valued var contains the value. Here a repeated header or
         * query argument is that table: true when any occurrence equals the value. Single-valued vars never "have".
         */
        private boolean has(ByteBuf buf, RequestHead head, MatchScratch s) {
            if ((source != SRC_HEADER && source != SRC_ARG) || str == null || valueIsNumber) {
                return false;
            }
            for (int k = 0; ; k++) {
                if (load(buf, head, s, k) == ABSENT) {
                    return false;
                }
                if (Arrays.equals(s.refArr, s.refOff, s.refOff + s.refLen, str, 0, str.length)) {
                    return true;
                }
            }
        }

        private static final byte[] COOKIE = "cookie".getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Lua's {@code tonumber} on a string, allocation-free: optional surrounding whitespace, an optional sign, then a
     * decimal (digits, fraction, exponent) or a {@code 0x} hexadecimal integer. NaN when it is not a number.
     */
    static double parseNumber(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && isSpace(b[i])) {
            i++;
        }
        while (end > i && isSpace(b[end - 1])) {
            end--;
        }
        if (i >= end) {
            return Double.NaN;
        }
        boolean neg = false;
        if (b[i] == '-' || b[i] == '+') {
            neg = b[i] == '-';
            i++;
        }
        if (end - i > 2 && b[i] == '0' && (b[i + 1] == 'x' || b[i + 1] == 'X')) {
            double v = 0;
            for (i += 2; i < end; i++) {
                int h = PathNormalizer.hex(b[i]);
                if (h < 0) {
                    return Double.NaN;
                }
                v = v * 16 + h;
            }
            return neg ? -v : v;
        }
        long mant = 0;
        int digits = 0;
        int exp10 = 0;
        boolean any = false;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            any = true;
            if (digits < 18) {
                mant = mant * 10 + (b[i] - '0');
                if (mant != 0) {
                    digits++;
                }
            } else {
                exp10++;
            }
            i++;
        }
        if (i < end && b[i] == '.') {
            i++;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                any = true;
                if (digits < 18) {
                    mant = mant * 10 + (b[i] - '0');
                    if (mant != 0) {
                        digits++;
                    }
                    exp10--;
                }
                i++;
            }
        }
        if (!any) {
            return Double.NaN;
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            boolean eneg = false;
            if (i < end && (b[i] == '-' || b[i] == '+')) {
                eneg = b[i] == '-';
                i++;
            }
            if (i >= end) {
                return Double.NaN;
            }
            int e = 0;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                e = Math.min(e * 10 + (b[i] - '0'), 10000);
                i++;
            }
            exp10 += eneg ? -e : e;
        }
        if (i != end) {
            return Double.NaN;
        }
        double v = exp10 == 0 ? mant : exp10 > 0 ? mant * Math.pow(10, exp10) : mant / Math.pow(10, -exp10);
        return neg ? -v : v;
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
    }
}
