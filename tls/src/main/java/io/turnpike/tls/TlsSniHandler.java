package io.turnpike.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;

import java.util.List;
import java.util.function.Supplier;

/**
 * First handler of an HTTPS connection: reads the ClientHello's server name, picks the ssl object's context from the
 * loop's current {@link TlsTable}, and replaces itself with that context's {@link SslHandler}. A client without SNI
 * gets the listener port's fallback name ({@code apisix.ssl.listen[].fallback_sni}, else {@code apisix.ssl.fallback_sni});
 * with no fallback, or a name no ssl object serves, the handshake fails with a TLS alert ({@code handshake_failure},
 * resp. {@code unrecognized_name}) — never some other certificate.
 *
 * <p>One instance per connection, confined to its event loop. The table is read when the ClientHello is complete,
 * so a rotation (a new snapshot) applies to every handshake that starts after it was published on this loop.
 *
 * <p>Outcomes go to a {@link TlsEvents} (the loop's {@link TlsHandshakeCounters}): refusals here, then the installed
 * {@link SslHandler}'s handshake result through one listener on its handshake future (the events object itself, so
 * nothing is allocated per connection for it).
 *
 * <p>{@code handshakeTimeoutMs} bounds the wait for the ClientHello and the handshake itself (netty's timers, one
 * scheduled task each per connection); 0 disables both, for a caller that bounds the connection otherwise (the
 * gateway's connection sweeper closes a connection without a complete request head after {@code header_timeout_ms}).
 */
public final class TlsSniHandler extends AbstractSniHandler<TlsTable.Entry> {
    /** TLS alert descriptions (RFC 8446 §6). */
    public static final byte ALERT_HANDSHAKE_FAILURE = 40;
    public static final byte ALERT_UNRECOGNIZED_NAME = 112;

    private final Supplier<TlsTable> table;
    private final String fallbackSni;
    private final long handshakeTimeoutMs;
    private final TlsEvents events;
    private boolean refused;

    /**
     * Handshake outcomes, called on the connection's event loop. Implementations must be cheap, allocation-free and
     * confined to that loop (one instance per loop). As the listener of the handshake future it sorts the result.
     */
    public interface TlsEvents extends GenericFutureListener<Future<Channel>> {
        /** Counts nothing (tests, tools). */
        TlsEvents NONE = new TlsEvents() {
            @Override
            public void completed() {
            }

            @Override
            public void failed(HandshakeFailure reason, Throwable cause) {
            }
        };

        /** A handshake completed (full or resumed). */
        void completed();

        /** A handshake failed, or the ClientHello was refused before one started ({@code cause} may be null). */
        void failed(HandshakeFailure reason, Throwable cause);

        @Override
        default void operationComplete(Future<Channel> handshake) {
            Throwable cause = handshake.cause();
            if (cause == null) {
                completed();
            } else {
                failed(HandshakeFailure.classify(cause), cause);
            }
        }
    }

    public TlsSniHandler(Supplier<TlsTable> table, String fallbackSni, long handshakeTimeoutMs, TlsEvents events) {
        super(handshakeTimeoutMs);
        this.table = table;
        this.fallbackSni = fallbackSni;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.events = events;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (refused) {
            // Refused with an alert and closing: the rest of the input is not looked at again (the ClientHello is
            // still in the cumulation, and each further decode would look it up, count it and alert once more).
            in.skipBytes(in.readableBytes());
            return;
        }
        super.decode(ctx, in, out);
    }

    @Override
    protected Future<TlsTable.Entry> lookup(ChannelHandlerContext ctx, String hostname) {
        if (hostname != null && isIpLiteral(hostname)) {
            // RFC 6066 §3 forbids IP literals in server_name, yet clients (wrk, some SDKs) send them when connecting
            // by address. Treat one as "no SNI": the listener's fallback certificate answers, as for a client that
            // sent nothing.
            hostname = null;
        }
        TlsTable t = table.get();
        if (hostname == null) {
            if (fallbackSni == null) {
                return ctx.executor().newFailedFuture(new NoCertificateException(ALERT_HANDSHAKE_FAILURE,
                        "no SNI and no fallback_sni for port " + ctx.channel().localAddress()));
            }
            TlsTable.Entry e = t.lookup(fallbackSni);
            return e != null ? ctx.executor().newSucceededFuture(e)
                    : ctx.executor().newFailedFuture(new NoCertificateException(ALERT_HANDSHAKE_FAILURE,
                    "no SNI, and no ssl object serves fallback_sni " + fallbackSni));
        }
        TlsTable.Entry e = t.lookup(hostname);
        return e != null ? ctx.executor().newSucceededFuture(e)
                : ctx.executor().newFailedFuture(new NoCertificateException(ALERT_UNRECOGNIZED_NAME,
                "no ssl object serves " + hostname));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<TlsTable.Entry> future) {
        if (!future.isSuccess()) {
            refused = true;
            byte alert = future.cause() instanceof NoCertificateException n ? n.alert : ALERT_HANDSHAKE_FAILURE;
            events.failed(alert == ALERT_UNRECOGNIZED_NAME ? HandshakeFailure.UNKNOWN_SNI : HandshakeFailure.NO_SNI,
                    future.cause());
            // A fatal alert record (TLS 1.0 record version, as in a ServerHello-less refusal), then close.
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {21, 3, 1, 0, 2, 2, alert}))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        TlsTable.Entry entry = future.getNow();
        SslHandler ssl = entry.context.newHandler(ctx.alloc());
        try {
            if (entry.ocspResponse != null) {
                ((ReferenceCountedOpenSslEngine) ssl.engine()).setOcspResponse(entry.ocspResponse);
            }
            // Before it is added (handlerAdded starts the handshake and would arm the default 10 s timer).
            ssl.setHandshakeTimeoutMillis(handshakeTimeoutMs);
            if (events != TlsEvents.NONE) {
                ssl.handshakeFuture().addListener(events);
            }
            ctx.pipeline().replace(this, "ssl", ssl);
            ssl = null;
        } finally {
            if (ssl != null) {
                // Not installed: give back the engine's reference on the context.
                ReferenceCountUtil.safeRelease(ssl.engine());
            }
        }
    }

    /** No certificate for this ClientHello; carries the alert to send. */
    static final class NoCertificateException extends Exception {
        final byte alert;

        NoCertificateException(byte alert, String message) {
            super(message, null, false, false);
            this.alert = alert;
        }
    }

    /** Dotted IPv4 or an IPv6 literal (contains ':'); no DNS lookup, no allocation beyond the scan. */
    static boolean isIpLiteral(String name) {
        if (name.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }
}
