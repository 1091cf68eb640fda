package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

final class BalancerTestSupport {
    private BalancerTestSupport() {
    }

    static NodeAddress node(String key, int weight, int index) {
        int colon = key.lastIndexOf(':');
        InetSocketAddress a = InetSocketAddress.createUnresolved(key.substring(0, colon),
                Integer.parseInt(key.substring(colon + 1)));
        return new NodeAddress(key, a, key.getBytes(StandardCharsets.US_ASCII), weight, index);
    }

    /** Nodes 10.0.0.1:80, 10.0.0.2:80 ... with the given weights. */
    static NodeAddress[] nodes(int... weights) {
        NodeAddress[] n = new NodeAddress[weights.length];
        for (int i = 0; i < weights.length; i++) {
            n[i] = node("10.0.0." + (i + 1) + ":80", weights[i], i);
        }
        return n;
    }

    /** A parsed request: the buffer (release it) and its head. */
    static final class Parsed implements AutoCloseable {
        final ByteBuf buf;
        final RequestHead head = new RequestHead(64);

        Parsed(String request) {
            buf = Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1);
            int n = new RequestHeadParser(8192, 65536, 64, true).parse(buf, head);
            if (n <= 0) {
                buf.release();
                throw new IllegalArgumentException("not a complete request: " + head.error);
            }
        }

        @Override
        public void close() {
            buf.release();
        }
    }

    static Parsed parse(String request) {
        return new Parsed(request);
    }

    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** A clock tests move by hand. */
    static final class FakeClock implements NanoClock {
        long now = 1_000_000_000L;

        @Override
        public long nanoTime() {
            return now;
        }

        void advanceMs(long ms) {
            now += ms * 1_000_000L;
        }
    }
}
