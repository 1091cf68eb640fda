package io.turnpike.engine.codec;

import static io.turnpike.engine.codec.HttpChars.CR;
import static io.turnpike.engine.codec.HttpChars.LF;
import static io.turnpike.engine.codec.HttpChars.SP;
import static io.turnpike.engine.codec.HttpChars.TCHAR;
import static io.turnpike.engine.codec.HttpChars.isOws;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * The incremental line loop shared by the request and response head parsers.
 *
 * <p>Each call scans complete lines from the resume point (the start of the first line not yet parsed, kept relative
 * to the reader index). Every complete line is parsed exactly once, in one pass, and its results are written into the
 * head. If the data ends inside a line, that line is scanned as far as the data goes (so errors in a partial line are
 * found early) and the parser remembers how far it scanned. The next call re-parses that line only when it is short
 * (at most {@value #CHEAP_RESCAN} bytes), when a CR or LF arrived after that point, or when the partial line has at
 * least doubled since its last scan; so feeding a head one byte at a time stays linear (amortized), and errors in a
 * long partial line are found at the latest when it doubles or ends.
 */
abstract class AbstractHeadParser<H extends HttpHead> {
    static final int LINE_NEED = -2, LINE_ERR = -1;
    /** A partial line up to this long is simply re-parsed on every call (bounded cost per byte received). */
    static final int CHEAP_RESCAN = 256;

    final int maxStartLineBytes;
    final int maxHeaderSectionBytes;

    // ---- resume state (relative to the reader index) ----
    private boolean inProgress;
    private boolean failed;
    private int lastBase;
    private int resumeOff;
    private int scannedOff;
    private boolean startLineDone;

    // ---- per-message header semantics ----
    boolean clSeen;
    boolean teSeen;
    boolean teInvalid;
    boolean teUnknown;
    int teCodings;
    int teChunkedCount;
    boolean teLastChunked;
    boolean connKeepAliveToken;
    boolean connOtherTokens;

    AbstractHeadParser(int maxStartLineBytes, int maxHeaderSectionBytes) {
        if (maxStartLineBytes < 16 || maxHeaderSectionBytes < 16) throw new IllegalArgumentException("limits too small");
        this.maxStartLineBytes = Math.min(maxStartLineBytes, maxHeaderSectionBytes);
        this.maxHeaderSectionBytes = maxHeaderSectionBytes;
    }

    /** Forgets the resume hints and any sticky error; the next parse starts a new head at the reader index. */
    public void reset() {
        inProgress = false;
        failed = false;
    }

    /** Parses the start line in [pos, scanEnd); returns the index after its LF, LINE_NEED or LINE_ERR. */
    abstract int parseStartLine(ByteBuf buf, int pos, int scanEnd, H head);

    /** Error when the start line does not end within the limit. */
    abstract HttpParseError startLineTooLong();

    /** Message-type specific header handling; false with head.error set to reject. */
    abstract boolean onHeader(ByteBuf buf, H head, int index, byte kind);

    /** Final checks once the empty line was seen; false with head.error set to reject. */
    abstract boolean finish(ByteBuf buf, H head);

    private void startMessage(H head, int base) {
        head.reset();
        inProgress = true;
        failed = false;
        lastBase = base;
        resumeOff = 0;
        scannedOff = 0;
        startLineDone = false;
        clSeen = teSeen = teInvalid = teUnknown = teLastChunked = false;
        teCodings = teChunkedCount = 0;
        connKeepAliveToken = connOtherTokens = false;
    }

    final int parse0(ByteBuf buf, H head) {
        final int base = buf.readerIndex();
        final int end = buf.writerIndex();
        if (!inProgress) {
            startMessage(head, base);
        } else if (failed) {
            return -1;
        } else if (base != lastBase) {
            head.shift(base - lastBase);
            lastBase = base;
        }
        int pos = base + resumeOff;
        if (scannedOff > resumeOff) {
            // The line at pos was already scanned up to scannedOff without reaching its end: only re-parse it once a
            // CR or LF arrived after that point.
            int limit = base + (startLineDone ? maxHeaderSectionBytes : maxStartLineBytes);
            int scanEnd = Math.min(end, limit);
            int from = base + scannedOff;
            int lineLen = scanEnd - pos;
            boolean rescan = from < scanEnd && (lineLen <= CHEAP_RESCAN || lineLen >= 2 * (scannedOff - resumeOff)
                    || buf.forEachByte(from, scanEnd - from, ByteProcessor.FIND_CRLF) >= 0);
            if (!rescan) {
                if (scanEnd >= limit) {
                    return fail(head, startLineDone ? HttpParseError.HEADER_SECTION_TOO_LARGE : startLineTooLong());
                }
                scannedOff = Math.max(scannedOff, scanEnd - base);
                return 0;
            }
        }
        for (;;) {
            int limit = base + (startLineDone ? maxHeaderSectionBytes : maxStartLineBytes);
            int scanEnd = Math.min(end, limit);
            int r;
            if (pos >= scanEnd) {
                r = LINE_NEED;
            } else {
                byte b = buf.getByte(pos);
                if (b == CR) {
                    // empty line: before the start line it is skipped, after it the head ends
                    if (pos + 1 >= scanEnd) {
                        r = LINE_NEED;
                    } else if (buf.getByte(pos + 1) != LF) {
                        return fail(head, HttpParseError.BARE_CR_OR_LF);
                    } else if (!startLineDone) {
                        pos += 2;
                        resumeOff = pos - base;
                        continue;
                    } else {
                        int headEnd = pos + 2;
                        head.headLength = headEnd - head.headStart;
                        if (!finish(buf, head)) {
                            failed = true;
                            return -1;
                        }
                        inProgress = false;
                        return headEnd - base;
                    }
                } else if (b == LF) {
                    return fail(head, HttpParseError.BARE_CR_OR_LF);
                } else if (!startLineDone) {
                    head.headStart = pos;
                    r = parseStartLine(buf, pos, scanEnd, head);
                    if (r >= 0) startLineDone = true;
                } else {
                    r = parseHeaderLine(buf, pos, scanEnd, head);
                }
            }
            if (r == LINE_ERR) {
                failed = true;
                return -1;
            }
            if (r == LINE_NEED) {
                if (scanEnd >= limit) {
                    return fail(head, startLineDone ? HttpParseError.HEADER_SECTION_TOO_LARGE : startLineTooLong());
                }
                resumeOff = pos - base;
                scannedOff = scanEnd - base;
                return 0;
            }
            pos = r;
            resumeOff = pos - base;
            scannedOff = resumeOff;
        }
    }

    final int fail(H head, HttpParseError e) {
        head.error = e;
        failed = true;
        return -1;
    }

    static int lineErr(HttpHead head, HttpParseError e) {
        head.error = e;
        return LINE_ERR;
    }

    /** Parses "field-name ':' OWS field-value OWS CRLF" starting at pos (first byte known not CR/LF). */
    private int parseHeaderLine(ByteBuf buf, int pos, int scanEnd, H head) {
        int i = pos;
        byte b = buf.getByte(i);
        if (isOws(b)) return lineErr(head, HttpParseError.OBS_FOLD);
        i = HttpChars.skipTchar(buf, i, scanEnd);
        if (i >= scanEnd) return LINE_NEED;
        b = buf.getByte(i);
        if (b != ':' || i == pos) {
            return lineErr(head, i > pos && isOws(b) ? HttpParseError.WHITESPACE_BEFORE_COLON
                    : HttpParseError.INVALID_HEADER_NAME);
        }
        final int ne = i;
        do {
            if (++i >= scanEnd) return LINE_NEED;
            b = buf.getByte(i);
        } while (isOws(b));
        final int vs = i;
        i = HttpChars.skipFieldValue(buf, i, scanEnd);
        if (i >= scanEnd) return LINE_NEED;
        b = buf.getByte(i);
        int ve = i; // the value ends after its last non-OWS byte (trailing OWS is not part of it)
        while (ve > vs && isOws(buf.getByte(ve - 1))) ve--;
        if (b != CR) {
            return lineErr(head, b == LF ? HttpParseError.BARE_CR_OR_LF : HttpParseError.INVALID_HEADER_VALUE);
        }
        if (++i >= scanEnd) return LINE_NEED;
        if (buf.getByte(i) != LF) return lineErr(head, HttpParseError.BARE_CR_OR_LF);
        if (!head.ensureRoomForOneMore()) return lineErr(head, HttpParseError.TOO_MANY_HEADERS);
        int n = head.headerCount;
        byte k = HttpChars.classify(buf, pos, ne);
        head.nameStart[n] = pos;
        head.nameEnd[n] = ne;
        head.valueStart[n] = vs;
        head.valueEnd[n] = ve;
        head.kind[n] = k;
        head.hopByHop[n] = HttpChars.hopByHopKind(k);
        head.headerCount = n + 1;
        switch (k) {
            case HttpHead.H_CONTENT_LENGTH: {
                if (clSeen) return lineErr(head, HttpParseError.DUPLICATE_CONTENT_LENGTH);
                if (teSeen) return lineErr(head, HttpParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING);
                long v = HttpChars.parseContentLength(buf, vs, ve);
                if (v < 0) return lineErr(head, HttpParseError.INVALID_CONTENT_LENGTH);
                clSeen = true;
                head.contentLength = v;
                break;
            }
            case HttpHead.H_TRANSFER_ENCODING:
                if (clSeen) return lineErr(head, HttpParseError.CONTENT_LENGTH_AND_TRANSFER_ENCODING);
                teSeen = true;
                parseCodings(buf, vs, ve);
                break;
            case HttpHead.H_CONNECTION:
                parseConnection(buf, vs, ve, head);
                break;
            case HttpHead.H_UPGRADE:
                head.upgrade = true;
                break;
            default:
                break;
        }
        if (!onHeader(buf, head, n, k)) return LINE_ERR;
        return i + 1;
    }

    private static final byte[] T_CHUNKED = HttpChars.ascii("chunked");
    private static final byte[] T_GZIP = HttpChars.ascii("gzip");
    private static final byte[] T_X_GZIP = HttpChars.ascii("x-gzip");
    private static final byte[] T_DEFLATE = HttpChars.ascii("deflate");
    private static final byte[] T_COMPRESS = HttpChars.ascii("compress");
    private static final byte[] T_X_COMPRESS = HttpChars.ascii("x-compress");
    private static final byte[] T_CLOSE = HttpChars.ascii("close");
    private static final byte[] T_KEEP_ALIVE = HttpChars.ascii("keep-alive");
    private static final byte[] T_UPGRADE = HttpChars.ascii("upgrade");

    /** Transfer-Encoding = #transfer-coding; transfer-coding = token *( OWS ";" OWS transfer-parameter ). */
    private void parseCodings(ByteBuf buf, int s, int e) {
        int i = s;
        while (i < e) {
            byte b = buf.getByte(i);
            if (b == ',' || isOws(b)) {
                i++;
                continue;
            }
            int ts = i;
            while (i < e && TCHAR[buf.getByte(i) & 0xff]) i++;
            if (i == ts) {
                teInvalid = true;
                return;
            }
            boolean chunked = HttpChars.equalsLower(buf, ts, i, T_CHUNKED);
            if (!chunked && !HttpChars.equalsLower(buf, ts, i, T_GZIP) && !HttpChars.equalsLower(buf, ts, i, T_DEFLATE)
                    && !HttpChars.equalsLower(buf, ts, i, T_COMPRESS) && !HttpChars.equalsLower(buf, ts, i, T_X_GZIP)
                    && !HttpChars.equalsLower(buf, ts, i, T_X_COMPRESS)) {
                teUnknown = true;
            }
            teCodings++;
            if (chunked) teChunkedCount++;
            teLastChunked = chunked;
            // skip parameters up to the next comma (quoted strings in parameters are not expected for codings)
            while (i < e && buf.getByte(i) != ',') i++;
        }
    }

    /** Connection = #connection-option (tokens). Sets close / keep-alive / upgrade flags. */
    private void parseConnection(ByteBuf buf, int s, int e, H head) {
        int i = s;
        while (i < e) {
            byte b = buf.getByte(i);
            if (b == ',' || isOws(b)) {
                i++;
                continue;
            }
            int ts = i;
            while (i < e && (b = buf.getByte(i)) != ',' && !isOws(b)) i++;
            int len = i - ts;
            if (len == 5 && HttpChars.equalsLower(buf, ts, i, T_CLOSE)) {
                head.connectionClose = true;
            } else if (len == 10 && HttpChars.equalsLower(buf, ts, i, T_KEEP_ALIVE)) {
                connKeepAliveToken = true;
            } else if (len == 7 && HttpChars.equalsLower(buf, ts, i, T_UPGRADE)) {
                head.connectionUpgrade = true;
            } else {
                connOtherTokens = true;
            }
        }
    }

    /** keep-alive by version and Connection tokens; marks headers named by Connection tokens hop-by-hop. */
    final void finishCommon(ByteBuf buf, H head) {
        head.keepAlive = !head.connectionClose && (head.versionMinor == 1 || connKeepAliveToken);
        if (connOtherTokens) markConnectionNamed(buf, head);
    }

    private static void markConnectionNamed(ByteBuf buf, HttpHead head) {
        int n = head.headerCount;
        for (int h = 0; h < n; h++) {
            if (head.kind[h] != HttpHead.H_CONNECTION) continue;
            int i = head.valueStart[h], e = head.valueEnd[h];
            while (i < e) {
                byte b = buf.getByte(i);
                if (b == ',' || isOws(b)) {
                    i++;
                    continue;
                }
                int ts = i;
                while (i < e && (b = buf.getByte(i)) != ',' && !isOws(b)) i++;
                for (int j = 0; j < n; j++) {
                    byte k = head.kind[j];
                    if (k == HttpHead.H_HOST || k == HttpHead.H_CONTENT_LENGTH || head.hopByHop[j]) continue;
                    if (HttpChars.equalsIgnoreCase(buf, head.nameStart[j], head.nameEnd[j], ts, i)) {
                        head.hopByHop[j] = true;
                    }
                }
            }
        }
    }

    /**
     * Parses "HTTP/" DIGIT "." DIGIT at i; returns the index after it, LINE_NEED or LINE_ERR. Versions other than 1.0
     * and 1.1 yield {@code unsupported}, anything that is not that shape {@code invalid}.
     */
    static int parseVersion(ByteBuf buf, int i, int scanEnd, HttpHead head, HttpParseError invalid,
                            HttpParseError unsupported) {
        for (int k = 0; k < 5; k++) {
            if (i + k >= scanEnd) return LINE_NEED;
            if (buf.getByte(i + k) != HTTP_SLASH[k]) return lineErr(head, invalid);
        }
        i += 5;
        if (i >= scanEnd) return LINE_NEED;
        int major = buf.getByte(i) - '0';
        if (major < 0 || major > 9) return lineErr(head, invalid);
        if (i + 1 >= scanEnd) return LINE_NEED;
        if (buf.getByte(i + 1) != '.') return lineErr(head, invalid);
        if (i + 2 >= scanEnd) return LINE_NEED;
        int minor = buf.getByte(i + 2) - '0';
        if (minor < 0 || minor > 9) return lineErr(head, invalid);
        if (major != 1 || minor > 1) return lineErr(head, unsupported);
        head.versionMinor = minor;
        return i + 3;
    }

    private static final byte[] HTTP_SLASH = HttpChars.ascii("HTTP/");

    /** Expects CR LF at i; returns the index after LF, LINE_NEED or LINE_ERR. */
    static int expectCrlf(ByteBuf buf, int i, int scanEnd, HttpHead head, HttpParseError notCr) {
        if (i >= scanEnd) return LINE_NEED;
        byte b = buf.getByte(i);
        if (b != CR) return lineErr(head, b == LF ? HttpParseError.BARE_CR_OR_LF : notCr);
        if (i + 1 >= scanEnd) return LINE_NEED;
        if (buf.getByte(i + 1) != LF) return lineErr(head, HttpParseError.BARE_CR_OR_LF);
        return i + 2;
    }

    static boolean isSp(byte b) {
        return b == SP;
    }
}
