package io.turnpike.engine.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** Buffers made from ISO-8859-1 strings, released after each test. */
abstract class CodecTestSupport {
    private final List<ByteBuf> buffers = new ArrayList<>();

    ByteBuf buf(String s) {
        ByteBuf b = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        buffers.add(b);
        return b;
    }

    ByteBuf empty(int capacity) {
        ByteBuf b = Unpooled.buffer(capacity);
        buffers.add(b);
        return b;
    }

    @AfterEach
    void releaseBuffers() {
        for (ByteBuf b : buffers) b.release();
        buffers.clear();
    }

    static String str(ByteBuf b, int s, int e) {
        return b.toString(s, e - s, StandardCharsets.ISO_8859_1);
    }
}
