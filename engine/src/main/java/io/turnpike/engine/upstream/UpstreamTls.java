package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslHandler;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The TLS side of an {@code scheme: https} upstream in a compiled snapshot: one BoringSSL client context per distinct
 * {@code tls} configuration, shared by every target with that configuration and by all loops.
 *
 * <p>Reference counting follows the server TLS table: the snapshot's {@link Contexts} owns one reference per context
 * and gives it back once a newer snapshot has been applied on every loop ({@code SnapshotPublisher}); every upstream
 * connection's engine holds its own (netty's engine retains its context when created and releases it when freed), so
 * a replaced context lives as long as the pooled connections that still use it.
 */
public final class UpstreamTls {
    /** Stable across snapshots while the configuration is unchanged: part of the pool key of the target's nodes. */
    public final String id;
    public final boolean verify;
    final ReferenceCountedOpenSslContext context;
    final String fingerprint;

    UpstreamTls(String id, boolean verify, ReferenceCountedOpenSslContext context, String fingerprint) {
        this.id = id;
        this.verify = verify;
        this.context = context;
        this.fingerprint = fingerprint;
    }

    /**
     * A client handler for one new upstream connection: SNI {@code sni} (BoringSSL sends it only when it is a host
     * name, never an IP literal) and, with {@code verify}, the name the certificate is checked against. Its own
     * handshake timer is off: the connection's sweeper bounds connect + handshake by the connect timeout.
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String sni, int port) {
        SslHandler h = context.newHandler(alloc, sni, port);
        h.setHandshakeTimeoutMillis(0);
        return h;
    }

    /** The client context (ALPN {@code h2} for a {@code grpcs} upstream), for the HTTP/2 upstream pools. */
    public io.netty.handler.ssl.SslContext sslContext() {
        return context;
    }

    /** The contexts of one snapshot. */
    public static final class Contexts {
        public static final Contexts EMPTY = new Contexts(List.of());

        private final List<UpstreamTls> entries;
        private final AtomicBoolean released = new AtomicBoolean();

        Contexts(List<UpstreamTls> entries) {
            this.entries = List.copyOf(entries);
        }

        public List<UpstreamTls> entries() {
            return entries;
        }

        /** Gives back the snapshot's reference on each context; idempotent. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                for (UpstreamTls t : entries) {
                    t.context.release();
                }
            }
        }
    }

    // ------------------------------------------------------------------ SNI helpers (host without port, lower case)

    /** {@code host[:port]} or {@code [v6][:port]} → the host, lower case, without brackets. */
    public static String hostOf(String hostPort) {
        String h = hostPort;
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            h = close > 0 ? h.substring(1, close) : h.substring(1);
        } else {
            int colon = h.indexOf(':');
            if (colon >= 0 && colon == h.lastIndexOf(':')) {
                h = h.substring(0, colon);
            }
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.toLowerCase(Locale.ROOT);
    }

    /** The host of a Host header value span. Allocates: for the connect path only. */
    public static String hostOf(ByteBuf buf, int start, int end) {
        return hostOf(buf.toString(start, end - start, StandardCharsets.ISO_8859_1).trim());
    }

    /** Index of {@code b} in {@code buf[from, to)}, or -1 (a plain loop: no ByteProcessor). */
    private static int find(ByteBuf buf, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (buf.getByte(i) == b) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether the host of the Host header value {@code buf[start, end)} (port stripped, case-insensitive) is
     * {@code sni}. No allocation: this runs when a pooled connection is picked for a request.
     */
    public static boolean sameHost(byte[] sni, ByteBuf buf, int start, int end) {
        if (sni == null) {
            return false;
        }
        int s = start;
        int e = end;
        while (s < e && buf.getByte(s) == ' ') {
            s++;
        }
        while (e > s && buf.getByte(e - 1) == ' ') {
            e--;
        }
        if (s < e && buf.getByte(s) == '[') {
            s++;
            int close = find(buf, s, e, (byte) ']');
            e = close < 0 ? e : close;
        } else {
            int colon = find(buf, s, e, (byte) ':');
            if (colon >= 0 && find(buf, colon + 1, e, (byte) ':') < 0) {
                e = colon;
            }
        }
        if (e > s && buf.getByte(e - 1) == '.') {
            e--;
        }
        if (e - s != sni.length) {
            return false;
        }
        for (int i = 0; i < sni.length; i++) {
            byte b = buf.getByte(s + i);
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (b != sni[i]) {
                return false;
            }
        }
        return true;
    }
}
