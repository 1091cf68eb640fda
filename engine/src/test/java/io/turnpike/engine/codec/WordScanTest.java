package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The word-at-a-time scans of {@link HttpChars} against the byte-at-a-time loops they replaced, on every byte value in
 * every position of a word, from every start offset, in heap and pooled direct buffers.
 */
class WordScanTest {

    private static int naiveTchar(byte[] a, int i, int end) {
        while (i < end && HttpChars.TCHAR[a[i] & 0xff]) i++;
        return i;
    }

    private static int naiveValue(byte[] a, int i, int end) {
        while (i < end && HttpChars.VALUE_CLASS[a[i] & 0xff] != HttpChars.V_BAD) i++;
        return i;
    }

    private static long naiveTarget(byte[] a, int i, int end) {
        int q = -1;
        for (; i < end; i++) {
            int c = HttpChars.TARGET_CLASS[a[i] & 0xff];
            if (c == 0) break;
            if (c == 2 && q < 0) q = i;
        }
        return ((long) q << 32) | (i & 0xffffffffL);
    }

    /** Fills with bytes of one class ('a' passes all three scans) and plants one byte value at one position. */
    private static void check(ByteBuf buf, byte[] a, int start, int end) {
        buf.clear().writeBytes(a);
        String at = " (start " + start + ", end " + end + ")";
        assertEquals(naiveTchar(a, start, end), HttpChars.skipTchar(buf, start, end), "skipTchar" + at);
        assertEquals(naiveValue(a, start, end), HttpChars.skipFieldValue(buf, start, end), "skipFieldValue" + at);
        long t = HttpChars.scanTarget(buf, start, end);
        long n = naiveTarget(a, start, end);
        assertEquals(HttpChars.targetEnd(n), HttpChars.targetEnd(t), "scanTarget end" + at);
        assertEquals(HttpChars.targetQuery(n), HttpChars.targetQuery(t), "scanTarget query" + at);
    }

    @Test
    void everyByteValueAtEveryPositionOfTwoWords() {
        ByteBuf heap = Unpooled.buffer(64);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        try {
            byte[] a = new byte[24];
            for (int v = 0; v < 256; v++) {
                for (int pos = 0; pos < 24; pos++) {
                    java.util.Arrays.fill(a, (byte) 'a');
                    a[pos] = (byte) v;
                    for (int start = 0; start <= 3; start++) {
                        for (int end : new int[] {start, 8, 15, 16, 17, 24}) {
                            if (end < start) continue;
                            check(heap, a, start, end);
                            check(direct, a, start, end);
                        }
                    }
                }
            }
        } finally {
            direct.release();
        }
    }

    @Test
    void randomBytesOfEveryClass() {
        SplittableRandom r = new SplittableRandom(14);
        // bytes drawn mostly from the passing classes so that scans run long, with rare stoppers of every kind
        byte[] common = "abcXYZ019-_.~!*'/ ?#%:\u0080\u00ff\t".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(256);
        try {
            byte[] a = new byte[200];
            for (int round = 0; round < 20_000; round++) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = r.nextInt(40) == 0 ? (byte) r.nextInt(256) : common[r.nextInt(common.length)];
                }
                int start = r.nextInt(20);
                int end = start + r.nextInt(a.length - start + 1);
                check(direct, a, start, end);
            }
        } finally {
            direct.release();
        }
    }
}
