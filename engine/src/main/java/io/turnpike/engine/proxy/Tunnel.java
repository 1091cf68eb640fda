package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.observe.ExchangeRecord;

/**
 * The raw two-way byte tunnel of a switched connection pair (a WebSocket after the upstream's
 * {@code 101 Switching Protocols}): bytes read from either side are written to the other as they come, with no framing
 * of ours. Back-pressure: a side's reads stop while the opposite channel is unwritable and resume on its writability
 * change (the pattern of the request and response bodies). Idle timeout: no byte either way for {@code idleTimeoutNs}
 * closes both sides (checked by the client connection's sweeper tick: one flag per read, no clock read per chunk).
 * When either side closes, what was written to the other is flushed and then it is closed too; the exchange ends
 * then, once ({@link Http1ServerConnection#tunnelEnded}).
 *
 * <pre>
 *   client ──read──▶ {@link #fromClient}   ──write──▶ upstream     (client reads off while upstream unwritable)
 *   client ◀─write── {@link #fromUpstream} ◀──read─── upstream     (upstream reads off while client unwritable)
 * </pre>
 *
 * <p>Confined to the event loop of both connections. Ownership: each read ByteBuf passes, as it is, to the opposite
 * channel's outbound buffer (released by Netty once written or failed); nothing is copied, and nothing is allocated
 * per chunk. One instance per switched connection (never reused: the connection closes with the tunnel).
 */
final class Tunnel {
    private final Http1ServerConnection client;
    private final Channel down;
    private final UpstreamConnection upstream;
    private final Channel up;
    private final LoopCounters counters;
    private final ExchangeRecord record;
    private final long idleTimeoutNs;

    private boolean open = true;
    private boolean upNeedsFlush;
    private boolean downNeedsFlush;
    /** A byte moved since the last sweep. */
    private boolean active;
    private long quietSinceNs;

    Tunnel(Http1ServerConnection client, Channel down, UpstreamConnection upstream, LoopCounters counters,
           ExchangeRecord record, long idleTimeoutNs, long nowNs) {
        this.client = client;
        this.down = down;
        this.upstream = upstream;
        this.up = upstream.channel();
        this.counters = counters;
        this.record = record;
        this.idleTimeoutNs = idleTimeoutNs;
        this.quietSinceNs = nowNs;
    }

    boolean isOpen() {
        return open;
    }

    /** Client bytes (already counted in {@code bytes_in} by the connection): to the upstream. */
    void fromClient(ByteBuf in) {
        if (!open) {
            in.release();
            return;
        }
        active = true;
        record.requestBytes += in.readableBytes();
        up.write(in, up.voidPromise());
        upNeedsFlush = true;
        if (!up.isWritable()) {
            client.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        }
    }

    /** Upstream bytes: to the client. */
    void fromUpstream(ByteBuf in) {
        if (!open) {
            in.release();
            return;
        }
        active = true;
        int n = in.readableBytes();
        record.responseBytes += n;
        counters.add(LoopCounters.BYTES_OUT, n);
        down.write(in, down.voidPromise());
        downNeedsFlush = true;
        if (!down.isWritable()) {
            upstream.blockReads(true);
        }
    }

    /** End of a client read burst. */
    void clientReadComplete() {
        if (upNeedsFlush) {
            upNeedsFlush = false;
            up.flush();
        }
    }

    /** End of an upstream read burst. */
    void upstreamReadComplete() {
        if (downNeedsFlush) {
            downNeedsFlush = false;
            down.flush();
        }
    }

    void clientWritabilityChanged(boolean writable) {
        if (open) {
            upstream.blockReads(!writable);
        }
    }

    void upstreamWritabilityChanged(boolean writable) {
        if (!open) {
            return;
        }
        if (writable) {
            client.resumeReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        } else {
            client.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        }
    }

    /** The client side closed: flush what is left toward the upstream, then close it; the exchange ends. */
    void clientClosed() {
        if (open) {
            open = false;
            closeAfterFlush(up);
            client.tunnelEnded(false);
        }
    }

    /** The upstream side closed: flush what is left toward the client, then close it; the exchange ends. */
    void upstreamClosed() {
        if (open) {
            open = false;
            client.tunnelEnded(true);
        }
    }

    /** The client connection's sweeper tick: closes both sides after {@code idleTimeoutNs} without a byte. */
    void sweep(long nowNs) {
        if (!open) {
            return;
        }
        if (active) {
            active = false;
            quietSinceNs = nowNs;
            return;
        }
        if (nowNs - quietSinceNs - idleTimeoutNs >= 0) {
            open = false;
            closeAfterFlush(up);
            client.tunnelEnded(true);
        }
    }

    private static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
