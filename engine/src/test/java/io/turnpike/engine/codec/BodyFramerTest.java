package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BodyFramerTest extends CodecTestSupport {

    static final String CHUNKED = "5;a=b;c=\"q \\\" ;\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0;last\r\n"
            + "Trailer-A: 1\r\nTrailer-B:  two \r\n\r\n";
    static final String NEXT = "GET / HTTP/1.1\r\n\r\n";

    /** Feeds [0, len) in pieces ending at the given cut points; returns total consumed or -1. */
    static int feed(BodyFramer f, ByteBuf b, int len, int... cuts) {
        int pos = 0;
        int avail;
        int ci = 0;
        do {
            avail = ci < cuts.length ? cuts[ci++] : len;
            if (avail < pos) continue;
            int n = f.consume(b, pos, avail);
            if (n < 0) return -1;
            pos += n;
            if (f.isComplete()) return pos;
        } while (avail < len);
        return pos;
    }

    @Test
    void chunkedOneShotStopsAtNextMessage() {
        ByteBuf b = buf(CHUNKED + NEXT);
        BodyFramer f = new BodyFramer(0);
        f.startChunked();
        assertEquals(CHUNKED.length(), f.consume(b, 0, b.writerIndex()));
        assertTrue(f.isComplete());
        assertEquals(5 + 26, f.payloadBytes());
        assertEquals(0, f.consume(b, CHUNKED.length(), b.writerIndex()), "complete: nothing more belongs to it");
    }

    @Test
    void chunkedEverySplitInTwoAndThree() {
        ByteBuf b = buf(CHUNKED + NEXT);
        int len = b.writerIndex();
        BodyFramer f = new BodyFramer(0);
        for (int i = 0; i <= len; i++) {
            f.startChunked();
            assertEquals(CHUNKED.length(), feed(f, b, len, i), "split at " + i);
            assertEquals(31, f.payloadBytes());
        }
        for (int i = 0; i <= CHUNKED.length(); i += 3) {
            for (int j = i; j <= CHUNKED.length(); j += 2) {
                f.startChunked();
                assertEquals(CHUNKED.length(), feed(f, b, len, i, j), "split at " + i + "," + j);
            }
        }
    }

    @Test
    void chunkedByteByByte() {
        ByteBuf b = buf(CHUNKED + NEXT);
        BodyFramer f = new BodyFramer(0);
        f.startChunked();
        int pos = 0;
        for (int i = 1; i <= b.writerIndex() && !f.isComplete(); i++) {
            int n = f.consume(b, pos, i);
            assertTrue(n >= 0);
            pos += n;
        }
        assertEquals(CHUNKED.length(), pos);
        assertTrue(f.isComplete());
    }

    @Test
    void contentLengthOverSplits() {
        ByteBuf b = buf("0123456789" + NEXT);
        BodyFramer f = new BodyFramer(0);
        for (int i = 0; i <= b.writerIndex(); i++) {
            f.startContentLength(10);
            assertFalse(f.isComplete());
            assertEquals(10, feed(f, b, b.writerIndex(), i));
            assertTrue(f.isComplete());
            assertEquals(10, f.payloadBytes());
        }
        f.startContentLength(0);
        assertTrue(f.isComplete());
        assertEquals(0, f.consume(b, 0, 5));
        f.startNone();
        assertEquals(0, f.consume(b, 0, 5));
    }

    @Test
    void untilCloseTakesEverything() {
        ByteBuf b = buf("abcdef");
        BodyFramer f = new BodyFramer(0);
        f.startUntilClose();
        assertEquals(3, f.consume(b, 0, 3));
        assertEquals(3, f.consume(b, 3, 6));
        assertFalse(f.isComplete());
        assertEquals(6, f.payloadBytes());
    }

    @Test
    void maxBodyBytes() {
        BodyFramer f = new BodyFramer(10);
        f.startContentLength(11);
        assertEquals(HttpParseError.BODY_TOO_LARGE, f.error());
        assertEquals(-1, f.consume(buf("x"), 0, 1));
        f.startContentLength(10);
        assertEquals(10, f.consume(buf("0123456789"), 0, 10));
        f.startChunked();
        ByteBuf b = buf("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");
        assertEquals(-1, f.consume(b, 0, b.writerIndex()));
        assertEquals(HttpParseError.BODY_TOO_LARGE, f.error());
        f.startChunked();
        b = buf("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
        assertEquals(b.writerIndex(), f.consume(b, 0, b.writerIndex()));
        f.startUntilClose();
        assertEquals(-1, f.consume(buf("01234567890"), 0, 11));
        assertEquals(HttpParseError.BODY_TOO_LARGE, f.error());
    }

    @ParameterizedTest(name = "{1}: {0}")
    @CsvSource(delimiter = '|', value = {
            "\\r\\n | INVALID_CHUNK_SIZE",
            "g\\r\\n | INVALID_CHUNK_SIZE",
            "5 \\r\\nhello\\r\\n0\\r\\n\\r\\n | INVALID_CHUNK_SIZE",
            "-5\\r\\n | INVALID_CHUNK_SIZE",
            "10000000000000000\\r\\n | INVALID_CHUNK_SIZE",
            "5\\nhello | BARE_CR_OR_LF",
            "5\\r\\rhello | BARE_CR_OR_LF",
            "5;\\r\\nhello\\r\\n0\\r\\n\\r\\n | INVALID_CHUNK_EXTENSION",
            "5; a\\r\\n | INVALID_CHUNK_EXTENSION",
            "5;a=\\r\\n | INVALID_CHUNK_EXTENSION",
            "5;a=\"b\\r\\n | INVALID_CHUNK_EXTENSION",
            "5;a=\"b\"c\\r\\n | INVALID_CHUNK_EXTENSION",
            "5\\r\\nhelloX\\r\\n | INVALID_CHUNK_DATA_TERMINATOR",
            "5\\r\\nhello\\rX | INVALID_CHUNK_DATA_TERMINATOR",
            "0\\r\\n Folded: x\\r\\n\\r\\n | INVALID_TRAILER",
            "0\\r\\nBad Name: x\\r\\n\\r\\n | INVALID_TRAILER",
            "0\\r\\nX: a\\x01\\r\\n\\r\\n | INVALID_TRAILER",
            "0\\r\\nX: a\\nY: b\\r\\n\\r\\n | BARE_CR_OR_LF",
            "0\\r\\n\\rX | BARE_CR_OR_LF",
    })
    void chunkedErrors(String body, HttpParseError expected) {
        ByteBuf b = buf(RequestHeadParserTest.decode(body));
        BodyFramer f = new BodyFramer(0);
        f.startChunked();
        assertEquals(-1, f.consume(b, 0, b.writerIndex()));
        assertEquals(expected, f.error());
        assertEquals(-1, f.consume(b, 0, b.writerIndex()), "sticky");
    }

    @Test
    void requestBodyModes() {
        RequestHead h = new RequestHead(4);
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForRequest(h));
        h.contentLength = 0;
        assertEquals(BodyFramer.MODE_NONE, BodyFramer.bodyModeForRequest(h));
        h.contentLength = 3;
        assertEquals(BodyFramer.MODE_LENGTH, BodyFramer.bodyModeForRequest(h));
        h.contentLength = -1;
        h.chunked = true;
        assertEquals(BodyFramer.MODE_CHUNKED, BodyFramer.bodyModeForRequest(h));
    }
}
