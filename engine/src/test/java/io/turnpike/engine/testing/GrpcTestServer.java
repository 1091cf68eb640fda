package io.turnpike.engine.testing;

import io.grpc.Attributes;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real grpc-java server (its shaded Netty transport) on a free 127.0.0.1 port, plaintext or TLS, with the methods
 * of service {@value #SERVICE}, defined without protoc (byte[] messages):
 * <ul>
 *   <li>{@code Echo} (unary): answers the request bytes;</li>
 *   <li>{@code Stream} (server streaming): request {@code "N:S"} → N messages of S bytes each (byte i of message k is
 *       {@code (k + i) & 0xff}), sent as the client's flow control allows ({@link #streamMessagesSent()});</li>
 *   <li>{@code Count} (client streaming): answers {@code "messages:bytes"} of what it received;</li>
 *   <li>{@code Bidi} (bidi streaming): echoes each message;</li>
 *   <li>{@code Slow} (unary): request {@code "ms"} (or {@code "ms:payload"}) → answers the request after that delay;</li>
 *   <li>{@code Fail} (unary): request {@code "code:message"} → fails with that grpc-status and grpc-message.</li>
 * </ul>
 * {@link #shutdown()} is a graceful shutdown (GOAWAY, in-flight calls finish); {@link Options#maxConnectionAgeMs}
 * makes the server send GOAWAY on each connection after that age while it keeps listening.
 */
public final class GrpcTestServer implements AutoCloseable {
    public static final String SERVICE = "turnpike.test.Test";

    /** byte[] as is. */
    public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    public static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo", MethodDescriptor.MethodType.UNARY);
    public static final MethodDescriptor<byte[], byte[]> STREAM =
            method("Stream", MethodDescriptor.MethodType.SERVER_STREAMING);
    public static final MethodDescriptor<byte[], byte[]> COUNT =
            method("Count", MethodDescriptor.MethodType.CLIENT_STREAMING);
    public static final MethodDescriptor<byte[], byte[]> BIDI = method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);
    public static final MethodDescriptor<byte[], byte[]> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);
    public static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    /** Server options. */
    public static final class Options {
        int maxConcurrentCallsPerConnection = Integer.MAX_VALUE;
        long maxConnectionAgeMs;
        Path certPem;
        Path keyPem;

        public Options maxConcurrentCallsPerConnection(int n) {
            this.maxConcurrentCallsPerConnection = n;
            return this;
        }

        /** GOAWAY on each connection after this age (grpc-java adds up to ±10% jitter); in-flight calls get 60 s. */
        public Options maxConnectionAgeMs(long ms) {
            this.maxConnectionAgeMs = ms;
            return this;
        }

        /** TLS (ALPN h2) with this certificate chain and PKCS#8 key. */
        public Options tls(Path certPem, Path keyPem) {
            this.certPem = certPem;
            this.keyPem = keyPem;
            return this;
        }
    }

    private final Server server;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "grpc-test-slow");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger connectionsAccepted = new AtomicInteger();
    private final AtomicInteger connectionsOpen = new AtomicInteger();
    private final AtomicLong streamMessagesSent = new AtomicLong();
    private final AtomicInteger callsCancelled = new AtomicInteger();

    public static GrpcTestServer start() throws IOException {
        return new GrpcTestServer(new Options());
    }

    public static GrpcTestServer start(Options o) throws IOException {
        return new GrpcTestServer(o);
    }

    private GrpcTestServer(Options o) throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxConcurrentCallsPerConnection(o.maxConcurrentCallsPerConnection)
                .addTransportFilter(new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attrs) {
                        connectionsAccepted.incrementAndGet();
                        connectionsOpen.incrementAndGet();
                        return attrs;
                    }

                    @Override
                    public void transportTerminated(Attributes attrs) {
                        connectionsOpen.decrementAndGet();
                    }
                })
                .addService(service());
        if (o.maxConnectionAgeMs > 0) {
            b.maxConnectionAge(o.maxConnectionAgeMs, TimeUnit.MILLISECONDS)
                    .maxConnectionAgeGrace(60, TimeUnit.SECONDS);
        }
        if (o.certPem != null) {
            b.sslContext(GrpcSslContexts.forServer(o.certPem.toFile(), o.keyPem.toFile()).build());
        }
        server = b.build().start();
    }

    private ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(req);
                    out.onCompleted();
                }))
                .addMethod(STREAM, ServerCalls.asyncServerStreamingCall(this::stream))
                .addMethod(COUNT, ServerCalls.asyncClientStreamingCall(out -> new StreamObserver<byte[]>() {
                    long messages;
                    long bytes;

                    @Override
                    public void onNext(byte[] value) {
                        messages++;
                        bytes += value.length;
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext((messages + ":" + bytes).getBytes(StandardCharsets.US_ASCII));
                        out.onCompleted();
                    }
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] value) {
                        out.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((req, out) -> {
                    String s = new String(req, StandardCharsets.US_ASCII);
                    int colon = s.indexOf(':');
                    long ms = Long.parseLong(colon < 0 ? s : s.substring(0, colon));
                    ServerCallStreamObserver<byte[]> so = (ServerCallStreamObserver<byte[]>) out;
                    so.setOnCancelHandler(callsCancelled::incrementAndGet);
                    timer.schedule(() -> {
                        if (!so.isCancelled()) {
                            so.onNext(req);
                            so.onCompleted();
                        }
                    }, ms, TimeUnit.MILLISECONDS);
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, out) -> {
                    String s = new String(req, StandardCharsets.US_ASCII);
                    int colon = s.indexOf(':');
                    out.onError(Status.fromCodeValue(Integer.parseInt(s.substring(0, colon)))
                            .withDescription(s.substring(colon + 1)).asRuntimeException());
                }))
                .build();
    }

    private void stream(byte[] req, StreamObserver<byte[]> out) {
        String s = new String(req, StandardCharsets.US_ASCII);
        int colon = s.indexOf(':');
        int n = Integer.parseInt(s.substring(0, colon));
        int size = Integer.parseInt(s.substring(colon + 1));
        ServerCallStreamObserver<byte[]> so = (ServerCallStreamObserver<byte[]>) out;
        so.setOnCancelHandler(callsCancelled::incrementAndGet);
        int[] next = {0};
        boolean[] done = {false};
        // Sends only while the transport is ready (the client's HTTP/2 window open): a client that stops consuming
        // stalls this stream instead of growing the server's buffers.
        Runnable drain = () -> {
            while (!done[0] && so.isReady() && !so.isCancelled()) {
                if (next[0] == n) {
                    done[0] = true;
                    so.onCompleted();
                    return;
                }
                byte[] m = new byte[size];
                for (int i = 0; i < size; i++) {
                    m[i] = (byte) (next[0] + i);
                }
                next[0]++;
                so.onNext(m);
                streamMessagesSent.incrementAndGet();
            }
        };
        so.setOnReadyHandler(drain);
        drain.run();
    }

    public int port() {
        return server.getPort();
    }

    public String authority() {
        return "127.0.0.1:" + port();
    }

    /** Connections that completed the HTTP/2 handshake since start. */
    public int connectionsAccepted() {
        return connectionsAccepted.get();
    }

    public int connectionsOpen() {
        return connectionsOpen.get();
    }

    /** Messages sent by {@code Stream} calls so far (all calls). */
    public long streamMessagesSent() {
        return streamMessagesSent.get();
    }

    /** Calls of {@code Slow} or {@code Stream} the client cancelled (RST_STREAM). */
    public int callsCancelled() {
        return callsCancelled.get();
    }

    /** Graceful shutdown: GOAWAY to every connection, no new connection, in-flight calls run to their end. */
    public void shutdown() {
        server.shutdown();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
        timer.shutdownNow();
    }

    /** A self-signed EC certificate for {@code localhost} and 127.0.0.1 (openssl), as {cert.pem, key.pem} in dir. */
    public static Path[] selfSignedCert(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "grpc.key", "-out", "grpc.crt", "-subj",
                "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl req failed: " + out);
        }
        return new Path[] {dir.resolve("grpc.crt"), dir.resolve("grpc.key")};
    }
}
