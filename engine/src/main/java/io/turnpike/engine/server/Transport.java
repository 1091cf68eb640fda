package io.turnpike.engine.server;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * The I/O transport: native epoll (with SO_REUSEPORT, one listener per loop), native io_uring (the same listener
 * layout; completions instead of readiness, see docs/transport.md), or the portable NIO fallback.
 */
public enum Transport {
    EPOLL, IO_URING, NIO;

    /** {@code auto} picks epoll when the native library loads; io_uring is chosen by name only. */
    public static Transport select(String configured) {
        return switch (configured == null ? "auto" : configured) {
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport epoll requested but unavailable: " + Epoll.unavailabilityCause());
                }
                yield EPOLL;
            }
            case "io_uring" -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("transport io_uring requested but unavailable: "
                            + IoUring.unavailabilityCause());
                }
                yield IO_URING;
            }
            case "nio" -> NIO;
            default -> Epoll.isAvailable() ? EPOLL : NIO;
        };
    }

    public IoHandlerFactory ioHandlerFactory() {
        return switch (this) {
            case EPOLL -> EpollIoHandler.newFactory();
            case IO_URING -> IoUringIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    public Class<? extends ServerSocketChannel> serverChannel() {
        return switch (this) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> socketChannel() {
        return switch (this) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    /** The name in {@code turnpike.transport} and in /status. */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public boolean reusePort() {
        return this != NIO;
    }
}
