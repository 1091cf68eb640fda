package io.turnpike.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/** Small helpers shared by the benchmarks. */
final class Bytes {
    private Bytes() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A pooled direct buffer holding {@code b}: what a socket read hands the pipeline. */
    static ByteBuf pooledDirect(byte[] b) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(b.length).writeBytes(b);
    }

    /** Releases every message in the channel's inbound queue; returns how many there were. */
    static int drainInbound(EmbeddedChannel ch) {
        int n = 0;
        Object m;
        while ((m = ch.readInbound()) != null) {
            ReferenceCountUtil.release(m);
            n++;
        }
        return n;
    }

    /** Releases every buffer in the channel's outbound queue; returns the number of bytes they held. */
    static int drainOutbound(EmbeddedChannel ch) {
        int bytes = 0;
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            bytes += b.readableBytes();
            b.release();
        }
        return bytes;
    }

    /** Copies (and releases) every buffer in the channel's outbound queue into one String, for setup checks. */
    static String outboundText(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    static String repeat(char c, int n) {
        return String.valueOf(c).repeat(n);
    }
}
