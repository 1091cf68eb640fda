package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Coverage-guided fuzz targets (Jazzer) for the request and response head parsers and the body framer, driven the way
 * a connection drives them: head, body, next head on the same bytes until an error, a close, a tunnel or the end.
 *
 * <p>Under plain surefire each target runs in regression mode: every file under
 * {@code src/test/resources/io/turnpike/engine/codec/HttpCodecFuzzTestInputs/<target>/} (hand-picked seeds and every
 * input that once crashed or hung) is one test. {@code scripts/fuzz.sh} runs them in fuzzing mode
 * ({@code JAZZER_FUZZ=1}, seeded with the llhttp corpus, see {@link FuzzSeeds}) for a bounded time.
 *
 * <p>Properties checked on every input:
 * <ul>
 *   <li>nothing throws (a rejection is {@code ERROR} + {@code head.error} or {@code -1} + {@code framer.error()});</li>
 *   <li>it terminates (the JUnit timeout becomes libFuzzer's per-input timeout);</li>
 *   <li>every recorded span lies inside the head it was parsed from and is ordered;</li>
 *   <li>feeding the same bytes in random pieces (reader index moving, read bytes discarded in between so recorded
 *       indexes must be shifted) yields exactly the same messages, spans, body lengths and verdict as feeding them
 *       whole;</li>
 *   <li>no buffer leaks (pooled direct buffers, paranoid leak detection in the test JVM, refCnt checked).</li>
 * </ul>
 */
public class HttpCodecFuzzTest {
    static final int MAX_REQUEST_LINE = 8192, MAX_HEAD = 65536, MAX_HEADERS = 100;
    static final long MAX_BODY = 1 << 20;

    @FuzzTest(maxDuration = "30s")
    void requestStream(byte[] data) {
        bounded(() -> check(data, true));
    }

    @FuzzTest(maxDuration = "30s")
    void responseStream(byte[] data) {
        bounded(() -> check(data, false));
    }

    /** The chunked framer alone: the input is a chunked body (what follows a "Transfer-Encoding: chunked" head). */
    @FuzzTest(maxDuration = "30s")
    void chunkedBody(byte[] data) {
        bounded(() -> checkChunked(data));
    }

    /** Entry points for Jazzer's standalone driver (scripts/fuzz.sh): libFuzzer's -timeout bounds each input there. */
    public static final class RequestStream {
        public static void fuzzerTestOneInput(byte[] data) {
            check(data, true);
        }
    }

    public static final class ResponseStream {
        public static void fuzzerTestOneInput(byte[] data) {
            check(data, false);
        }
    }

    public static final class ChunkedBody {
        public static void fuzzerTestOneInput(byte[] data) {
            checkChunked(data);
        }
    }

    /**
     * Regression mode: a hang fails the test after 10 s instead of stalling the build. JUnit's @Timeout is not used
     * because in JUnit fuzzing mode it would bound the whole fuzzing run.
     */
    static void bounded(Runnable r) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), r::run, "input did not terminate within 10 s");
    }

    static void checkChunked(byte[] data) {
        List<String> whole = frameChunked(data, new int[] {data.length});
        List<String> split = frameChunked(data, splits(data));
        assertEquals(whole, split, "chunked framing differs when the body arrives in pieces");
    }

    static void check(byte[] data, boolean request) {
        List<String> whole = run(data, request, new int[] {data.length}, false);
        int[] sizes = splits(data);
        List<String> split = run(data, request, sizes, true);
        if (!whole.equals(split) && whole.size() == split.size() && last(whole).startsWith("head error")
                && last(split).equals("need more")) {
            // Documented: an error inside a long unterminated line is found at the latest when the line ends (or
            // doubles), so the split run may still be waiting. Once the line ends both must agree.
            byte[] ended = Arrays.copyOf(data, data.length + 4);
            System.arraycopy(CRLFCRLF, 0, ended, data.length, 4);
            int[] endedSizes = Arrays.copyOf(sizes, sizes.length + 1);
            endedSizes[sizes.length] = 4;
            whole = run(ended, request, new int[] {ended.length}, false);
            split = run(ended, request, endedSizes, true);
        }
        assertEquals(whole, split, "parse of the input in pieces differs from parse of the whole");
    }

    private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};

    private static String last(List<String> l) {
        return l.get(l.size() - 1);
    }

    /** Piece sizes derived from the input itself, so a corpus file replays the same way every time. */
    static int[] splits(byte[] data) {
        SplittableRandom r = new SplittableRandom(Arrays.hashCode(data) * 0x9E3779B97F4A7C15L);
        List<Integer> sizes = new ArrayList<>();
        int left = data.length;
        while (left > 0) {
            int n = Math.min(left, r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(Math.max(1, Math.min(left, 64))));
            sizes.add(n);
            left -= n;
        }
        int[] out = new int[sizes.size()];
        for (int i = 0; i < out.length; i++) out[i] = sizes.get(i);
        return out;
    }

    /**
     * Feeds {@code data} in pieces of {@code sizes} into one buffer, parsing as a connection does; returns what was
     * seen: one line per head (spans relative to the head start), per completed body, and the final verdict.
     */
    static List<String> run(byte[] data, boolean request, int[] sizes, boolean discard) {
        List<String> out = new ArrayList<>();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(16, data.length));
        try {
            RequestHeadParser rp = new RequestHeadParser(MAX_REQUEST_LINE, MAX_HEAD, MAX_HEADERS, true);
            ResponseHeadParser sp = new ResponseHeadParser(MAX_HEAD, MAX_HEADERS);
            RequestHead rq = new RequestHead(MAX_HEADERS);
            ResponseHead rs = new ResponseHead(MAX_HEADERS);
            BodyFramer framer = new BodyFramer(MAX_BODY);
            boolean inBody = false;
            int off = 0;
            String end = null;
            feed:
            for (int size : sizes) {
                buf.writeBytes(data, off, size);
                off += size;
                while (buf.isReadable()) {
                    if (!inBody) {
                        int r = request ? rp.parse(buf, rq) : sp.parse(buf, rs);
                        HttpHead h = request ? rq : rs;
                        if (r < 0) {
                            assertTrue(h.error != null, "ERROR without a reason");
                            end = "head error " + h.error;
                            break feed;
                        }
                        if (r == 0) break;
                        assertTrue(r <= buf.readableBytes(), "consumed more than available");
                        out.add(describe(buf, h, r));
                        buf.skipBytes(r);
                        if (request && rq.method == RequestHead.METHOD_CONNECT) {
                            end = "tunnel";
                            break feed;
                        }
                        if (!request && rs.status == 101) {
                            end = "switched";
                            break feed;
                        }
                        int mode = request ? BodyFramer.bodyModeForRequest(rq)
                                : BodyFramer.bodyModeForResponse(rs, RequestHead.METHOD_GET);
                        framer.start(mode, h.contentLength);
                        inBody = true;
                    }
                    int n = framer.consume(buf, buf.readerIndex(), buf.writerIndex());
                    if (n < 0) {
                        assertTrue(framer.error() != null, "-1 without a reason");
                        end = "body error " + framer.error();
                        break feed;
                    }
                    assertTrue(n <= buf.readableBytes(), "framer consumed more than available");
                    buf.skipBytes(n);
                    if (!framer.isComplete()) break;
                    inBody = false;
                    out.add("body " + framer.payloadBytes());
                    if (request) {
                        if ((rq.upgrade && rq.connectionUpgrade) || !rq.keepAlive) {
                            end = "last request";
                            break feed;
                        }
                    } else if (rs.status >= 200 && !rs.keepAlive) {
                        end = "last response";
                        break feed;
                    }
                }
                if (discard && (size & 1) == 0) buf.discardReadBytes();
            }
            if (end == null) end = inBody ? "in body, payload " + framer.payloadBytes() : "need more";
            out.add(end);
            assertEquals(1, buf.refCnt());
            return out;
        } finally {
            buf.release();
        }
    }

    private static String describe(ByteBuf buf, HttpHead h, int consumed) {
        int hs = h.headStart;
        int he = hs + h.headLength;
        int base = buf.readerIndex();
        assertTrue(hs >= base && he <= base + consumed && he == base + consumed, "head span outside what was consumed");
        assertTrue(h.headerCount >= 0 && h.headerCount <= h.maxHeaders(), "header count out of range");
        StringBuilder sb = new StringBuilder();
        sb.append("head ").append(consumed).append(" lead=").append(hs - base).append(" v=1.").append(h.versionMinor);
        if (h instanceof RequestHead) {
            RequestHead r = (RequestHead) h;
            span(hs, he, r.methodStart, r.methodEnd);
            span(hs, he, r.targetStart, r.targetEnd);
            span(r.targetStart, r.targetEnd, r.targetStart, r.pathEnd);
            sb.append(" m=").append(r.method).append(' ').append(r.methodStart - hs).append('-').append(r.methodEnd - hs)
                    .append(" t=").append(r.targetStart - hs).append('-').append(r.targetEnd - hs).append('/')
                    .append(r.pathEnd - hs).append(" host=").append(r.hostIndex).append(" expect=")
                    .append(r.expectContinue);
        } else {
            ResponseHead r = (ResponseHead) h;
            assertTrue(r.status >= 100 && r.status <= 999, "status out of range: " + r.status);
            span(hs, he, r.reasonStart, r.reasonEnd);
            sb.append(" s=").append(r.status).append(" reason=").append(r.reasonStart - hs).append('-')
                    .append(r.reasonEnd - hs);
        }
        for (int i = 0; i < h.headerCount; i++) {
            span(hs, he, h.nameStart[i], h.nameEnd[i]);
            span(hs, he, h.valueStart[i], h.valueEnd[i]);
            assertTrue(h.nameEnd[i] < h.valueStart[i] || h.valueStart[i] == h.valueEnd[i], "value before name");
            sb.append(" [").append(h.nameStart[i] - hs).append('-').append(h.nameEnd[i] - hs).append(':')
                    .append(h.valueStart[i] - hs).append('-').append(h.valueEnd[i] - hs).append(" k=").append(h.kind[i])
                    .append(h.hopByHop[i] ? " hbh" : "").append(']');
        }
        assertTrue(h.contentLength >= -1, "negative Content-Length");
        sb.append(" cl=").append(h.contentLength).append(" chunked=").append(h.chunked).append(" ka=")
                .append(h.keepAlive).append(" up=").append(h.upgrade).append('/').append(h.connectionUpgrade)
                .append(" close=").append(h.connectionClose);
        return sb.toString();
    }

    private static void span(int lo, int hi, int s, int e) {
        assertTrue(lo <= s && s <= e && e <= hi, "span [" + s + ", " + e + ") outside [" + lo + ", " + hi + ")");
    }

    static List<String> frameChunked(byte[] data, int[] sizes) {
        List<String> out = new ArrayList<>();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(16, data.length));
        try {
            BodyFramer framer = new BodyFramer(MAX_BODY);
            framer.startChunked();
            int off = 0;
            String end = null;
            for (int size : sizes) {
                buf.writeBytes(data, off, size);
                off += size;
                int n = framer.consume(buf, buf.readerIndex(), buf.writerIndex());
                if (n < 0) {
                    assertTrue(framer.error() != null, "-1 without a reason");
                    end = "error " + framer.error();
                    break;
                }
                assertTrue(n <= buf.readableBytes(), "framer consumed more than available");
                assertTrue(framer.payloadBytes() >= 0 && framer.payloadBytes() <= MAX_BODY, "payload out of range");
                buf.skipBytes(n);
                if (framer.isComplete()) {
                    end = "complete " + framer.payloadBytes() + " rest " + (data.length - off + buf.readableBytes());
                    break;
                }
                buf.discardReadBytes();
            }
            if (end == null) end = "need more, payload " + framer.payloadBytes();
            out.add(end);
            return out;
        } finally {
            buf.release();
        }
    }
}
