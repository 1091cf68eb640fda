package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;

/**
 * The 64-bit hash consistent hashing uses: an xxHash64-style round over 8-byte little-endian chunks (read straight from
 * the {@link ByteBuf}, no copy), a tail packed into one word, and murmur3's fmix64 finaliser for avalanche. Streaming:
 * {@link #start()}, any number of {@code update*} calls, {@link #finish(long)}. Not a standard hash: only determinism
 * (same bytes, same hash, across loops and restarts) and uniformity matter here. Allocation-free, stateless.
 */
public final class KeyHash {
    static final long P1 = 0x9E3779B185EBCA87L, P2 = 0xC2B2AE3D27D4EB4FL, P4 = 0x85EBCA77C2B2AE63L,
            P5 = 0x27D4EB2F165667C5L;

    private KeyHash() {
    }

    public static long start() {
        return P5;
    }

    static long round(long h, long k) {
        k *= P2;
        k = Long.rotateLeft(k, 31);
        k *= P1;
        h ^= k;
        return Long.rotateLeft(h, 27) * P1 + P4;
    }

    /** Mixes the bytes {@code [s, e)} of {@code buf} (absolute indexes) and their length. */
    public static long update(long h, ByteBuf buf, int s, int e) {
        int i = s;
        for (; i + 8 <= e; i += 8) {
            h = round(h, buf.getLongLE(i));
        }
        long tail = 0;
        int shift = 0;
        for (; i < e; i++, shift += 8) {
            tail |= (buf.getByte(i) & 0xFFL) << shift;
        }
        return round(h, tail ^ ((long) (e - s) << 56) ^ 0x1F);
    }

    /** Mixes {@code a} and its length; same result as {@link #update(long, ByteBuf, int, int)} over the same bytes. */
    public static long update(long h, byte[] a) {
        int i = 0, e = a.length;
        for (; i + 8 <= e; i += 8) {
            long k = 0;
            for (int j = 7; j >= 0; j--) {
                k = (k << 8) | (a[i + j] & 0xFFL);
            }
            h = round(h, k);
        }
        long tail = 0;
        int shift = 0;
        for (; i < e; i++, shift += 8) {
            tail |= (a[i] & 0xFFL) << shift;
        }
        return round(h, tail ^ ((long) e << 56) ^ 0x1F);
    }

    /** Mixes {@code [s, e)} of {@code buf} lower-cased (ASCII); same result as {@link #update} over lower-case bytes. */
    public static long updateLower(long h, ByteBuf buf, int s, int e) {
        long k = 0;
        int shift = 0;
        for (int i = s; i < e; i++) {
            int b = buf.getByte(i) & 0xFF;
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            k |= (long) b << shift;
            shift += 8;
            if (shift == 64) {
                h = round(h, k);
                k = 0;
                shift = 0;
            }
        }
        return round(h, k ^ ((long) (e - s) << 56) ^ 0x1F);
    }

    public static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xFF51AFD7ED558CCDL;
        k ^= k >>> 33;
        k *= 0xC4CEB93FE1A85EC9L;
        k ^= k >>> 33;
        return k;
    }

    public static long finish(long h) {
        return fmix64(h);
    }

    /** One-shot hash of {@code a}. */
    public static long hash(byte[] a) {
        return finish(update(start(), a));
    }
}
