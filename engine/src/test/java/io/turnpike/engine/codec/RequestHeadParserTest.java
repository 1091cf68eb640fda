package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestHeadParserTest extends CodecTestSupport {

    static final String TYPICAL = "GET /a/b?x=1 HTTP/1.1\r\n"
            + "Host: example.com\r\n"
            + "X-Forwarded-For:  1.2.3.4 \t\r\n"
            + "Connection: keep-alive, X-Custom\r\n"
            + "x-custom: v\r\n"
            + "TE: trailers\r\n"
            + "Content-Length: 5\r\n"
            + "Empty:\r\n"
            + "\r\n";

    private final RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100, true);
    private final RequestHead head = new RequestHead(100);

    private int parse(String s) {
        parser.reset();
        return parser.parse(buf(s), head);
    }

    private HttpParseError error(String s) {
        int r = parse(s);
        assertEquals(RequestHeadParser.ERROR, r, "expected an error for " + s.replace("\r\n", "\\r\\n"));
        return head.error;
    }

    @Test
    void extractsFields() {
        ByteBuf b = buf(TYPICAL);
        assertEquals(TYPICAL.length(), parser.parse(b, head));
        assertNull(head.error);
        assertEquals(RequestHead.METHOD_GET, head.method);
        assertEquals("GET", str(b, head.methodStart, head.methodEnd));
        assertEquals("/a/b?x=1", str(b, head.targetStart, head.targetEnd));
        assertEquals("/a/b", str(b, head.targetStart, head.pathEnd));
        assertTrue(head.hasQuery(b));
        assertEquals(1, head.versionMinor);
        assertEquals(7, head.headerCount);
        assertEquals(0, head.hostIndex);
        assertEquals("example.com", str(b, head.valueStart[0], head.valueEnd[0]));
        assertEquals("1.2.3.4", str(b, head.valueStart[1], head.valueEnd[1]));
        assertEquals("", str(b, head.valueStart[6], head.valueEnd[6]));
        assertArrayEquals(new byte[] {RequestHead.H_HOST, RequestHead.H_X_FORWARDED_FOR, RequestHead.H_CONNECTION,
                RequestHead.H_OTHER, RequestHead.H_TE, RequestHead.H_CONTENT_LENGTH, RequestHead.H_OTHER},
                java.util.Arrays.copyOf(head.kind, 7));
        assertArrayEquals(new boolean[] {false, false, true, true, true, false, false},
                java.util.Arrays.copyOf(head.hopByHop, 7));
        assertEquals(5, head.contentLength);
        assertFalse(head.chunked);
        assertTrue(head.keepAlive);
        assertEquals(0, head.headStart);
        assertEquals(TYPICAL.length(), head.headLength);
        assertTrue(head.nameEquals(b, 3, "x-custom".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(3, head.indexOf(b, "x-custom".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(5, head.indexOfKind(RequestHead.H_CONTENT_LENGTH));
    }

    @Test
    void allHeaderKinds() {
        String[] names = {"X-Other", "HOST", "content-length", "Transfer-Encoding", "Connection", "Keep-Alive",
                "Proxy-Connection", "TE", "Trailer", "Upgrade", "Expect", "X-Forwarded-For", "X-Forwarded-Proto",
                "X-Forwarded-Host", "X-Forwarded-Port", "X-Real-IP"};
        StringBuilder sb = new StringBuilder("POST / HTTP/1.1\r\n");
        for (String n : names) {
            String v = n.equalsIgnoreCase("transfer-encoding") ? "chunked" : n.equals("Expect") ? "100-continue"
                    : n.equalsIgnoreCase("content-length") ? "1" : "x";
            sb.append(n).append(": ").append(v).append("\r\n");
        }
        RequestHeadParser p = new RequestHeadParser(8192, 65536, 100, true);
        // CL + TE together is an error: drop CL for this test
        String s = sb.append("\r\n").toString().replace("content-length: 1\r\n", "");
        assertTrue(p.parse(buf(s), head) > 0, String.valueOf(head.error));
        int k = 0;
        for (int i = 0; i < names.length; i++) {
            if (i == 2) continue;
            assertEquals(i, head.kind[k++], names[i]);
        }
        assertTrue(head.chunked);
        assertTrue(head.upgrade);
        assertTrue(head.expectContinue);
    }

    @ParameterizedTest
    @CsvSource({
            "'GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n', true",
            "'GET / HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n', false",
            "'GET / HTTP/1.1\\r\\nHost: a\\r\\nConnection: Keep-Alive, CLOSE\\r\\n\\r\\n', false",
            "'GET / HTTP/1.0\\r\\n\\r\\n', false",
            "'GET / HTTP/1.0\\r\\nConnection: keep-alive\\r\\n\\r\\n', true",
            "'GET / HTTP/1.0\\r\\nConnection: Keep-Alive\\r\\n\\r\\n', true",
            "'GET / HTTP/1.0\\r\\nConnection: close, keep-alive\\r\\n\\r\\n', false",
    })
    void keepAliveRules(String req, boolean keepAlive) {
        assertTrue(parse(decode(req)) > 0, String.valueOf(head.error));
        assertEquals(keepAlive, head.keepAlive);
    }

    @Test
    void expectContinue() {
        assertTrue(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n") > 0);
        assertTrue(head.expectContinue);
        assertTrue(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") > 0);
        assertFalse(head.expectContinue, "ignored in HTTP/1.0");
        assertTrue(parse("PUT / HTTP/1.0\r\nExpect: whatever\r\n\r\n") > 0);
        assertEquals(HttpParseError.EXPECTATION_FAILED, error("PUT / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n"));
    }

    @Test
    void targetsAndMethods() {
        ByteBuf b = buf("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
        assertTrue(parser.parse(b, head) > 0);
        assertEquals(RequestHead.METHOD_OPTIONS, head.method);
        assertEquals("*", str(b, head.targetStart, head.targetEnd));
        assertTrue(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") > 0);
        assertEquals(RequestHead.METHOD_CONNECT, head.method);
        assertTrue(parse("GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n") > 0);
        b = buf("GET /p#frag HTTP/1.1\r\nHost: a\r\n\r\n");
        parser.reset();
        assertTrue(parser.parse(b, head) > 0);
        assertEquals("/p", str(b, head.targetStart, head.pathEnd));
        assertFalse(head.hasQuery(b));
        String[][] methods = {{"GET", "1"}, {"HEAD", "2"}, {"POST", "3"}, {"PUT", "4"}, {"DELETE", "5"},
                {"OPTIONS", "7"}, {"TRACE", "8"}, {"PATCH", "9"}, {"PROPFIND", "0"}, {"M-SEARCH", "0"},
                {"QUERY", "0"}, {"UNSUBSCRIBE", "0"}};
        for (String[] m : methods) {
            assertTrue(parse(m[0] + " / HTTP/1.1\r\nHost: a\r\n\r\n") > 0, m[0]);
            assertEquals(Integer.parseInt(m[1]), head.method, m[0]);
        }
    }

    @Test
    void leadingEmptyLinesAreSkipped() {
        String s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assertEquals(s.length(), parse(s));
        assertEquals(4, head.headStart);
        assertEquals(s.length() - 4, head.headLength);
    }

    @Test
    void pipelinedHeads() {
        String a = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
        String c = "GET /22 HTTP/1.1\r\nHost: b\r\n\r\n";
        ByteBuf b = buf(a + c);
        int r = parser.parse(b, head);
        assertEquals(a.length(), r);
        b.readerIndex(r);
        assertEquals(c.length(), parser.parse(b, head));
        assertEquals("/22", str(b, head.targetStart, head.targetEnd));
        assertEquals(a.length(), head.headStart);
    }

    /** One reachable case per head error (body errors: BodyFramerTest; INVALID_STATUS_LINE: ResponseHeadParserTest). */
    @ParameterizedTest(name = "{1}: {0}")
    @CsvSource(delimiter = '|', value = {
            "get / HTTP/1.1\\r\\n\\r\\n | INVALID_METHOD",
            "MKCOLA / HTTP/1.1\\r\\n\\r\\n | INVALID_METHOD",
            "PRI * HTTP/1.1\\r\\n\\r\\nSM\\r\\n\\r\\n | INVALID_METHOD",
            "GET\\t/ HTTP/1.1\\r\\n\\r\\n | INVALID_METHOD",
            "GET /a\\x01b HTTP/1.1\\r\\n\\r\\n | INVALID_REQUEST_TARGET",
            "GET /\\xe9 HTTP/1.1\\r\\n\\r\\n | INVALID_REQUEST_TARGET",
            "GET  / HTTP/1.1\\r\\n\\r\\n | INVALID_REQUEST_TARGET",
            "GET * HTTP/1.1\\r\\n\\r\\n | INVALID_REQUEST_TARGET",
            "GET / HTTX/1.1\\r\\n\\r\\n | INVALID_VERSION",
            "GET / HTTP/1.1 \\r\\n\\r\\n | INVALID_VERSION",
            "GET / HTTP/1.x\\r\\n\\r\\n | INVALID_VERSION",
            "GET / HTTP/2.0\\r\\n\\r\\n | UNSUPPORTED_VERSION",
            "GET / HTTP/0.9\\r\\n\\r\\n | UNSUPPORTED_VERSION",
            "GET /\\r\\n\\r\\n | UNSUPPORTED_VERSION",
            "GET / HTTP/1.1\\r\\nFo@: x\\r\\n\\r\\n | INVALID_HEADER_NAME",
            "GET / HTTP/1.1\\r\\n: x\\r\\n\\r\\n | INVALID_HEADER_NAME",
            "GET / HTTP/1.1\\r\\nNoColon\\r\\n\\r\\n | INVALID_HEADER_NAME",
            "GET / HTTP/1.1\\r\\nFoo : x\\r\\n\\r\\n | WHITESPACE_BEFORE_COLON",
            "GET / HTTP/1.1\\r\\nFoo: a\\x00b\\r\\n\\r\\n | INVALID_HEADER_VALUE",
            "GET / HTTP/1.1\\r\\nFoo: a\\x7fb\\r\\n\\r\\n | INVALID_HEADER_VALUE",
            "GET / HTTP/1.1\\r\\nFoo: a\\r\\n b\\r\\n\\r\\n | OBS_FOLD",
            "GET / HTTP/1.1\\r\\n Foo: a\\r\\n\\r\\n | OBS_FOLD",
            "GET / HTTP/1.1\\r\\nFoo: a\\nBar: b\\r\\n\\r\\n | BARE_CR_OR_LF",
            "GET / HTTP/1.1\\r\\nFoo: a\\rBar: b\\r\\n\\r\\n | BARE_CR_OR_LF",
            "GET / HTTP/1.1\\nHost: a\\r\\n\\r\\n | BARE_CR_OR_LF",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\r\\n | BARE_CR_OR_LF",
            "\\rGET / HTTP/1.1\\r\\n\\r\\n | BARE_CR_OR_LF",
            "\\nGET / HTTP/1.1\\r\\n\\r\\n | BARE_CR_OR_LF",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: +5\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: -1\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length:\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1,1\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 0x10\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 9223372036854775808\\r\\n\\r\\n | INVALID_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 5\\r\\nContent-Length: 5\\r\\n\\r\\n | DUPLICATE_CONTENT_LENGTH",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | CONTENT_LENGTH_AND_TRANSFER_ENCODING",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\nContent-Length: 5\\r\\n\\r\\n | CONTENT_LENGTH_AND_TRANSFER_ENCODING",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n | TRANSFER_ENCODING_NOT_CHUNKED",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked, gzip\\r\\n\\r\\n | TRANSFER_ENCODING_NOT_CHUNKED",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | TRANSFER_ENCODING_NOT_CHUNKED",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding:\\r\\n\\r\\n | TRANSFER_ENCODING_NOT_CHUNKED",
            "GET / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | TRANSFER_ENCODING_IN_HTTP10",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: pigeons\\r\\n\\r\\n | UNKNOWN_TRANSFER_CODING",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: identity, chunked\\r\\n\\r\\n | UNKNOWN_TRANSFER_CODING",
            "GET / HTTP/1.1\\r\\n\\r\\n | MISSING_HOST",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: a\\r\\n\\r\\n | DUPLICATE_HOST",
            "GET / HTTP/1.0\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n | DUPLICATE_HOST",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nExpect: 200-ok\\r\\n\\r\\n | EXPECTATION_FAILED",
    })
    void errors(String req, HttpParseError expected) {
        req = decode(req);
        assertEquals(expected, error(req));
        assertEquals(RequestHeadParser.ERROR, parser.parse(buf(req), head), "errors are sticky until reset()");
    }

    @Test
    void everyHeadErrorIsCovered() throws Exception {
        Set<HttpParseError> covered = EnumSet.noneOf(HttpParseError.class);
        for (String line : RequestHeadParserTest.class.getDeclaredMethod("errors", String.class, HttpParseError.class)
                .getAnnotation(CsvSource.class).value()) {
            covered.add(HttpParseError.valueOf(line.substring(line.lastIndexOf('|') + 1).trim()));
        }
        covered.addAll(EnumSet.of(HttpParseError.URI_TOO_LONG, HttpParseError.HEADER_SECTION_TOO_LARGE,
                HttpParseError.TOO_MANY_HEADERS)); // limits tests
        covered.addAll(EnumSet.of(HttpParseError.INVALID_CHUNK_SIZE, HttpParseError.INVALID_CHUNK_EXTENSION,
                HttpParseError.INVALID_CHUNK_DATA_TERMINATOR, HttpParseError.INVALID_TRAILER,
                HttpParseError.BODY_TOO_LARGE)); // BodyFramerTest
        covered.add(HttpParseError.INVALID_STATUS_LINE); // ResponseHeadParserTest
        assertEquals(EnumSet.allOf(HttpParseError.class), covered);
    }

    @Test
    void hostIsOptionalWhenNotRequired() {
        RequestHeadParser p = new RequestHeadParser(8192, 65536, 100, false);
        assertTrue(p.parse(buf("GET / HTTP/1.1\r\n\r\n"), head) > 0);
        assertEquals(-1, head.hostIndex);
        p.reset();
        assertEquals(RequestHeadParser.ERROR, p.parse(buf("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), head));
        assertEquals(HttpParseError.DUPLICATE_HOST, head.error);
    }

    @Test
    void connectionTokensMarkHopByHopButNeverFraming() {
        ByteBuf b = buf("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nX-A: 1\r\nX-B: 2\r\n"
                + "Connection: x-a, host, content-length\r\nconnection: X-B\r\n\r\n");
        assertTrue(parser.parse(b, head) > 0);
        assertFalse(head.hopByHop[0]);
        assertFalse(head.hopByHop[1]);
        assertTrue(head.hopByHop[2]);
        assertTrue(head.hopByHop[3]);
        assertTrue(head.hopByHop[4]);
        assertTrue(head.hopByHop[5]);
    }

    // ---------------------------------------------------------------- limits

    @Test
    void requestLineLimitEvenWhenIncomplete() {
        String longTarget = "/" + "a".repeat(8200);
        assertEquals(HttpParseError.URI_TOO_LONG, error("GET " + longTarget));
        assertEquals(HttpParseError.URI_TOO_LONG, error("GET " + longTarget + " HTTP/1.1\r\nHost: a\r\n\r\n"));
        // just under the limit: incomplete but fine
        parser.reset();
        assertEquals(RequestHeadParser.NEED_MORE, parser.parse(buf("GET /" + "a".repeat(8000)), head));
        // exactly at the limit including CRLF is accepted
        String line = "GET /" + "a".repeat(8192 - 16) + " HTTP/1.1\r\n";
        assertEquals(8192, line.length());
        assertTrue(parse(line + "Host: a\r\n\r\n") > 0, String.valueOf(head.error));
    }

    @Test
    void headerSectionLimitEvenWhenIncomplete() {
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 70; i++) sb.append("X-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
        assertEquals(HttpParseError.HEADER_SECTION_TOO_LARGE, error(sb.toString()));
        assertEquals(HttpParseError.HEADER_SECTION_TOO_LARGE, error(sb + "\r\n"));
        assertEquals(HttpParseError.HEADER_SECTION_TOO_LARGE, error("GET / HTTP/1.1\r\nX: " + "v".repeat(70000)));
    }

    @Test
    void tooManyHeaders() {
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 99; i++) sb.append("X-").append(i).append(": v\r\n");
        assertTrue(parse(sb + "\r\n") > 0, "100 headers are fine");
        assertEquals(100, head.headerCount);
        sb.append("X-last: v\r\n");
        assertEquals(HttpParseError.TOO_MANY_HEADERS, error(sb.toString()));
    }

    // ---------------------------------------------------------------- incremental

    @Test
    void byteByByteEqualsOneShot() {
        String s = "\r\n" + TYPICAL;
        RequestHead one = new RequestHead(100);
        assertEquals(s.length(), new RequestHeadParser(8192, 65536, 100, true).parse(buf(s), one));
        ByteBuf b = empty(s.length());
        int r = 0;
        for (int i = 0; i < s.length(); i++) {
            b.writeByte(s.charAt(i));
            r = parser.parse(b, head);
            if (i < s.length() - 1) assertEquals(RequestHeadParser.NEED_MORE, r, "at byte " + i);
        }
        assertEquals(s.length(), r);
        assertSameHead(one, head);
    }

    /**
     * The header arrays start at 16 entries and grow during the parse (16 -> 32 -> 64 -> 100): a head of 70 headers
     * fed one byte at a time, after a small head on the same objects, keeps every span and kind, and equals the same
     * head parsed in one go by a head that never grew.
     */
    @Test
    void headerArraysGrowDuringAnIncrementalParseAndKeepEveryHeader() {
        assertTrue(parse(TYPICAL) > 0);
        assertEquals(HttpHead.INITIAL_HEADERS, head.kind.length, "a typical head fits the starting arrays");
        StringBuilder sb = new StringBuilder("GET /many HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 69; i++) sb.append("X-").append(i).append(": value-").append(i).append("\r\n");
        String s = sb.append("\r\n").toString();
        RequestHead one = new RequestHead(100);
        assertEquals(s.length(), new RequestHeadParser(8192, 65536, 100, true).parse(buf(s), one));
        parser.reset();
        ByteBuf b = empty(s.length());
        int r = 0;
        for (int i = 0; i < s.length(); i++) {
            b.writeByte(s.charAt(i));
            r = parser.parse(b, head);
        }
        assertEquals(s.length(), r);
        assertEquals(70, head.headerCount);
        assertEquals(100, head.kind.length, "grown to the limit, not past it");
        assertSameHead(one, head);
        assertEquals("value-0", str(b, head.valueStart[1], head.valueEnd[1]));
        assertEquals("X-68", str(b, head.nameStart[69], head.nameEnd[69]));
        assertEquals("value-68", str(b, head.valueStart[69], head.valueEnd[69]));
        assertEquals(RequestHead.H_HOST, head.kind[0]);
    }

    @Test
    void resumeSurvivesDiscardedReadBytes() {
        String part1 = "GET /abc HTTP/1.1\r\nHost: exa";
        String part2 = "mple.com\r\nX: y\r\n\r\n";
        ByteBuf b = empty(256);
        b.writeBytes("JUNK".getBytes(StandardCharsets.ISO_8859_1));
        b.writeBytes(part1.getBytes(StandardCharsets.ISO_8859_1));
        b.readerIndex(4);
        assertEquals(RequestHeadParser.NEED_MORE, parser.parse(b, head));
        b.discardReadBytes();
        b.writeBytes(part2.getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(part1.length() + part2.length(), parser.parse(b, head));
        assertEquals("/abc", str(b, head.targetStart, head.targetEnd));
        assertEquals("example.com", str(b, head.valueStart[0], head.valueEnd[0]));
        assertEquals(0, head.headStart);
    }

    @Test
    void errorsInPartialLinesAreFoundEarly() {
        assertEquals(HttpParseError.UNSUPPORTED_VERSION, error("GET / HTTP/5.6"));
        assertEquals(HttpParseError.OBS_FOLD, error("GET / HTTP/1.1\r\n Host: foo"));
        assertEquals(HttpParseError.INVALID_METHOD, error("FOO@"));
        assertEquals(HttpParseError.INVALID_HEADER_NAME, error("GET / HTTP/1.1\r\nA@"));
    }

    @Test
    void doesNotTouchBufferIndexes() {
        ByteBuf b = buf(TYPICAL);
        b.readerIndex(0);
        int w = b.writerIndex();
        parser.parse(b, head);
        assertEquals(0, b.readerIndex());
        assertEquals(w, b.writerIndex());
    }

    /** Test-table escapes: \\r \\n \\t \\xHH. */
    static String decode(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'r': sb.append('\r'); break;
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'x': sb.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16)); i += 2; break;
                    default: sb.append(c).append(n);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static void assertSameHead(RequestHead a, RequestHead b) {
        assertEquals(a.method, b.method);
        assertEquals(a.methodStart, b.methodStart);
        assertEquals(a.targetStart, b.targetStart);
        assertEquals(a.targetEnd, b.targetEnd);
        assertEquals(a.pathEnd, b.pathEnd);
        assertEquals(a.versionMinor, b.versionMinor);
        assertEquals(a.headerCount, b.headerCount);
        for (int i = 0; i < a.headerCount; i++) {
            assertEquals(a.nameStart[i], b.nameStart[i]);
            assertEquals(a.nameEnd[i], b.nameEnd[i]);
            assertEquals(a.valueStart[i], b.valueStart[i]);
            assertEquals(a.valueEnd[i], b.valueEnd[i]);
            assertEquals(a.kind[i], b.kind[i]);
            assertEquals(a.hopByHop[i], b.hopByHop[i]);
        }
        assertEquals(a.hostIndex, b.hostIndex);
        assertEquals(a.contentLength, b.contentLength);
        assertEquals(a.chunked, b.chunked);
        assertEquals(a.keepAlive, b.keepAlive);
        assertEquals(a.headStart, b.headStart);
        assertEquals(a.headLength, b.headLength);
    }
}
