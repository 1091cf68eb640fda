package io.turnpike.engine.trace;

import io.netty.buffer.ByteBuf;

/**
 * W3C Trace Context ({@code traceparent}) on bytes, without allocating: parse a received header value into longs,
 * write one into a byte array. Stateless; any thread.
 *
 * <pre>
 * traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *              ^^ version  ^^ trace id (32 hex, not all 0)  ^^ parent span id (16 hex, not 0)  ^^ flags (bit 0: sampled)
 * </pre>
 */
public final class TraceContext {
    /** The length of a version-00 {@code traceparent} value. */
    public static final int TRACEPARENT_LENGTH = 55;
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private TraceContext() {
    }

    /** A parsed {@code traceparent}: reused by its owner (one per loop or per exchange). */
    public static final class Parent {
        public long traceHi;
        public long traceLo;
        public long spanId;
        public boolean sampled;
    }

    /**
     * Parses {@code src[start, end)} as a {@code traceparent} value into {@code out}; false (and {@code out} undefined)
     * when it is not a valid one: as the W3C spec and OpenTelemetry's propagator say, lower-case hex only, version
     * {@code ff} invalid, version 00 exactly 55 characters, a later version at least 55 with a '-' after the flags,
     * trace id and span id not all zeros.
     */
    public static boolean parse(ByteBuf src, int start, int end, Parent out) {
        int len = end - start;
        if (len < TRACEPARENT_LENGTH) {
            return false;
        }
        int v0 = hex(src.getByte(start));
        int v1 = hex(src.getByte(start + 1));
        if (v0 < 0 || v1 < 0 || (v0 == 0xF && v1 == 0xF)) {
            return false;
        }
        boolean v00 = v0 == 0 && v1 == 0;
        if (v00 ? len != TRACEPARENT_LENGTH : len > TRACEPARENT_LENGTH && src.getByte(start + 55) != '-') {
            return false;
        }
        if (src.getByte(start + 2) != '-' || src.getByte(start + 35) != '-' || src.getByte(start + 52) != '-') {
            return false;
        }
        long hi = hex16(src, start + 3);
        long lo = hex16(src, start + 19);
        long span = hex16(src, start + 36);
        int f0 = hex(src.getByte(start + 53));
        int f1 = hex(src.getByte(start + 54));
        if (hi == -1 && !allHex(src, start + 3) || lo == -1 && !allHex(src, start + 19)
                || span == -1 && !allHex(src, start + 36) || f0 < 0 || f1 < 0) {
            return false;
        }
        if (hi == 0 && lo == 0 || span == 0) {
            return false;
        }
        out.traceHi = hi;
        out.traceLo = lo;
        out.spanId = span;
        out.sampled = (f1 & 1) != 0;
        return true;
    }

    /**
     * Reads a 32-hex-digit id (either case) from {@code src[start, end)} into {@code out.traceHi/traceLo}; false when
     * the span is not exactly 32 hex digits or is all zeros (trace_id_source x-request-id).
     */
    public static boolean parseTraceId(ByteBuf src, int start, int end, Parent out) {
        if (end - start != 32) {
            return false;
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 32; i++) {
            int d = hexAnyCase(src.getByte(start + i));
            if (d < 0) {
                return false;
            }
            if (i < 16) {
                hi = hi << 4 | d;
            } else {
                lo = lo << 4 | d;
            }
        }
        if (hi == 0 && lo == 0) {
            return false;
        }
        out.traceHi = hi;
        out.traceLo = lo;
        return true;
    }

    /** Writes {@code 00-<trace>-<span>-<flags>} (55 bytes) at {@code dst[at]}. */
    public static void write(byte[] dst, int at, long traceHi, long traceLo, long spanId, boolean sampled) {
        dst[at] = '0';
        dst[at + 1] = '0';
        dst[at + 2] = '-';
        writeHex(dst, at + 3, traceHi);
        writeHex(dst, at + 19, traceLo);
        dst[at + 35] = '-';
        writeHex(dst, at + 36, spanId);
        dst[at + 52] = '-';
        dst[at + 53] = '0';
        dst[at + 54] = (byte) (sampled ? '1' : '0');
    }

    /** Writes the 16 bytes of a trace id, big-endian (the binary form: {@code ExchangeRecord.traceId}). */
    public static void traceIdBytes(byte[] dst, long hi, long lo) {
        for (int i = 0; i < 8; i++) {
            dst[i] = (byte) (hi >>> (56 - 8 * i));
            dst[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
    }

    /** 16 lower-case hex digits of {@code v} at {@code dst[at]}. */
    public static void writeHex(byte[] dst, int at, long v) {
        for (int i = 0; i < 16; i++) {
            dst[at + i] = HEX[(int) (v >>> (60 - 4 * i)) & 0xF];
        }
    }

    private static long hex16(ByteBuf src, int at) {
        long v = 0;
        for (int i = 0; i < 16; i++) {
            int d = hex(src.getByte(at + i));
            if (d < 0) {
                return -1;
            }
            v = v << 4 | d;
        }
        return v;
    }

    private static boolean allHex(ByteBuf src, int at) {
        for (int i = 0; i < 16; i++) {
            if (hex(src.getByte(at + i)) < 0) {
                return false;
            }
        }
        return true;
    }

    /** A lower-case hex digit's value, else -1 (W3C: upper case is invalid). */
    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        return -1;
    }

    private static int hexAnyCase(byte b) {
        return b >= 'A' && b <= 'F' ? b - 'A' + 10 : hex(b);
    }
}
