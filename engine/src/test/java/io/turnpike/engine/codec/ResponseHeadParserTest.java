package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponseHeadParserTest extends CodecTestSupport {
    private final ResponseHeadParser parser = new ResponseHeadParser(65536, 100);
    private final ResponseHead head = new ResponseHead(100);

    private int parse(String s) {
        parser.reset();
        return parser.parse(buf(s), head);
    }

    @Test
    void extractsFields() {
        String s = "HTTP/1.1 404 Not  Found\r\nContent-Length: 3\r\nConnection: close\r\nX-A:b\r\n\r\nabc";
        ByteBuf b = buf(s);
        assertEquals(s.length() - 3, parser.parse(b, head));
        assertEquals(404, head.status);
        assertEquals("Not  Found", str(b, head.reasonStart, head.reasonEnd));
        assertEquals(1, head.versionMinor);
        assertEquals(3, head.contentLength);
        assertFalse(head.keepAlive);
        assertEquals(3, head.headerCount);
        assertEquals("b", str(b, head.valueStart[2], head.valueEnd[2]));
        assertTrue(head.hopByHop[1]);
        assertEquals(BodyFramer.MODE_LENGTH, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
    }

    @Test
    void statusLineVariants() {
        assertTrue(parse("HTTP/1.1 301\r\n\r\n") > 0);
        assertEquals(301, head.status);
        assertTrue(parse("HTTP/1.1 200 \r\n\r\n") > 0);
        assertTrue(parse("HTTP/1.0 200 Ori\u00ebntatie\r\n\r\n") > 0);
        assertFalse(head.keepAlive);
        assertTrue(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n") > 0);
        assertTrue(head.keepAlive);
        assertTrue(parse("\r\nHTTP/1.1 200 OK\r\n\r\n") > 0);
        assertTrue(head.keepAlive);
    }

    @ParameterizedTest(name = "{1}: {0}")
    @CsvSource(delimiter = '|', value = {
            "HTP/1.1 200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/01.1 200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.01 200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1\\t200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1  200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 2 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 2000 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 099 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 600 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/2.0 200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "RTSP/1.1 200 OK\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 200 O\\x01K\\r\\n\\r\\n | INVALID_STATUS_LINE",
            "HTTP/1.1 200 OK\\nX: y\\r\\n\\r\\n | BARE_CR_OR_LF",
            "HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\nContent-Length: 1\\r\\n\\r\\n | DUPLICATE_CONTENT_LENGTH",
            "HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | CONTENT_LENGTH_AND_TRANSFER_ENCODING",
            "HTTP/1.1 200 OK\\r\\nFoo : bar\\r\\n\\r\\n | WHITESPACE_BEFORE_COLON",
            "HTTP/1.1 200 OK\\r\\nFoo: bar\\r\\n baz\\r\\n\\r\\n | OBS_FOLD",
    })
    void errors(String s, HttpParseError expected) {
        assertEquals(ResponseHeadParser.ERROR, parse(RequestHeadParserTest.decode(s)));
        assertEquals(expected, head.error);
        assertEquals(502, HttpParseError.INVALID_STATUS_LINE.status);
    }

    @Test
    void headerSectionLimit() {
        ResponseHeadParser p = new ResponseHeadParser(1024, 100);
        assertEquals(ResponseHeadParser.ERROR, p.parse(buf("HTTP/1.1 200 OK\r\nX: " + "a".repeat(2000)), head));
        assertEquals(HttpParseError.HEADER_SECTION_TOO_LARGE, head.error);
    }

    @Test
    void bodyModes() {
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_LENGTH, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_HEAD));
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertTrue(parse("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertTrue(parse("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertTrue(parse("HTTP/1.1 100 Continue\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_POST));
        assertTrue(parse("HTTP/1.1 200 Connection established\r\n\r\n") > 0);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_CONNECT));
        assertEquals(BodyFramer.MODE_UNTIL_CLOSE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertTrue(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") > 0);
        assertTrue(head.chunked);
        assertTrue(head.keepAlive);
        assertEquals(BodyFramer.MODE_CHUNKED, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
        assertTrue(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") > 0);
        assertFalse(head.chunked);
        assertFalse(head.keepAlive);
        assertEquals(BodyFramer.MODE_UNTIL_CLOSE, BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET));
    }

    @Test
    void byteByByteEqualsOneShot() {
        String s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
        ByteBuf b = empty(s.length());
        int r = 0;
        for (int i = 0; i < s.length(); i++) {
            b.writeByte(s.charAt(i));
            r = parser.parse(b, head);
            if (i < s.length() - 1) assertEquals(0, r);
        }
        assertEquals(s.length(), r);
        assertEquals(200, head.status);
        assertTrue(head.chunked);
        assertEquals("text/plain", str(b, head.valueStart[0], head.valueEnd[0]));
    }
}
