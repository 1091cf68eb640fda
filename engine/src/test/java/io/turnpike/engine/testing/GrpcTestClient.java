package io.turnpike.engine.testing;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A grpc-java client (shaded Netty transport) for tests: a channel to host:port, plaintext or TLS, and blocking /
 * async calls of {@link GrpcTestServer}'s methods (or any byte[] method) through {@link ClientCalls}. For gateway ITs:
 * point it at the gateway's listener and assert what the upstream answered.
 */
public final class GrpcTestClient implements AutoCloseable {
    public final ManagedChannel channel;

    private GrpcTestClient(ManagedChannel channel) {
        this.channel = channel;
    }

    public static GrpcTestClient plaintext(String host, int port) {
        return new GrpcTestClient(NettyChannelBuilder.forAddress(host, port).usePlaintext().build());
    }

    /** TLS (ALPN h2) trusting {@code caPem}; {@code authority}: the SNI and the name checked, null for {@code host}. */
    public static GrpcTestClient tls(String host, int port, Path caPem, String authority) throws Exception {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(host, port)
                .sslContext(GrpcSslContexts.forClient().trustManager(caPem.toFile()).build());
        if (authority != null) {
            b.overrideAuthority(authority);
        }
        return new GrpcTestClient(b.build());
    }

    public byte[] unary(MethodDescriptor<byte[], byte[]> m, byte[] request) {
        return ClientCalls.blockingUnaryCall(channel, m, CallOptions.DEFAULT, request);
    }

    public byte[] unary(MethodDescriptor<byte[], byte[]> m, byte[] request, long deadlineMs) {
        return ClientCalls.blockingUnaryCall(channel, m,
                CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS), request);
    }

    public List<byte[]> serverStream(MethodDescriptor<byte[], byte[]> m, byte[] request) {
        List<byte[]> out = new ArrayList<>();
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, m, CallOptions.DEFAULT, request);
        it.forEachRemaining(out::add);
        return out;
    }

    /** Client or bidi streaming: returns the request observer; responses go to {@code responses}. */
    public StreamObserver<byte[]> stream(MethodDescriptor<byte[], byte[]> m, StreamObserver<byte[]> responses) {
        if (m.getType() == MethodDescriptor.MethodType.CLIENT_STREAMING) {
            return ClientCalls.asyncClientStreamingCall(channel.newCall(m, CallOptions.DEFAULT), responses);
        }
        return ClientCalls.asyncBidiStreamingCall(channel.newCall(m, CallOptions.DEFAULT), responses);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
    }
}
