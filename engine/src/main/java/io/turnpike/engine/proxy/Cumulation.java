package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Appends a newly read buffer to a connection's cumulation (Netty's merge cumulator, simplified). */
final class Cumulation {
    private Cumulation() {
    }

    /** Takes ownership of {@code in}; returns the cumulation to keep (possibly a new pooled buffer). */
    static ByteBuf append(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
        try {
            if (!cumulation.isReadable()) {
                cumulation.release();
                return in.retain();
            }
            int needed = in.readableBytes();
            if (cumulation.writableBytes() < needed || cumulation.isReadOnly()) {
                // Writing past writerIndex is safe while retained slices of the read part are in flight.
                // Compact: copy the unread part and the new bytes into a fresh pooled buffer.
                ByteBuf next = alloc.directBuffer(Math.max(cumulation.readableBytes() + needed, 1024));
                next.writeBytes(cumulation, cumulation.readerIndex(), cumulation.readableBytes());
                cumulation.release();
                cumulation = next;
            }
            cumulation.writeBytes(in, in.readerIndex(), needed);
            return cumulation;
        } finally {
            in.release();
        }
    }
}
