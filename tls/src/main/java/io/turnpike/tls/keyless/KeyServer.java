package io.turnpike.tls.keyless;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The key server: holds private keys, indexed by {@link KeyId}, and signs on behalf of gateways over the keyless
 * protocol on a mutually authenticated TLS listener (client certificate required, verified against the configured CA).
 * Signatures run on a bounded worker pool, never on the server's I/O threads; a full pool answers {@link
 * KeylessProtocol#STATUS_OVERLOADED} at once.
 */
public final class KeyServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KeyServer.class.getName());

    private final Map<KeyId, PrivateKey> keys;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor workers;
    private final Channel serverChannel;
    private final SslContext sslContext;

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final AtomicLong connections = new AtomicLong();
    /** Accepted connections, closed explicitly on close(): clients must see the server go away at once. */
    private final io.netty.channel.group.ChannelGroup children =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final AtomicLong handshakeFailures = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong signed = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();

    private KeyServer(Builder b) throws InterruptedException {
        this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(b.keys));
        this.sslContext = b.sslContext;
        this.group = new MultiThreadIoEventLoopGroup(b.ioThreads, new DefaultThreadFactory("keyserver-io", true),
                NioIoHandler.newFactory());
        this.workers = new ThreadPoolExecutor(b.workerThreads, b.workerThreads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(b.maxQueuedRequests), new DefaultThreadFactory("keyserver-sign", true),
                new ThreadPoolExecutor.AbortPolicy());
        ChannelHandler handler = new RequestHandler();
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 256)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.incrementAndGet();
                            children.add(ch);
                            ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc()));
                            KeylessCodec.addServerCodec(ch.pipeline());
                            ch.pipeline().addLast("keyless-server", handler);
                        }
                    })
                    .bind(b.listen).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            shutdownResources();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "key server listening on {0} with {1} key(s)", localAddress(), keys.size());
    }

    public static Builder builder() {
        return new Builder();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The ids of the loaded keys. */
    public List<KeyId> keyIds() {
        return new ArrayList<>(keys.keySet());
    }

    public Snapshot snapshot() {
        return new Snapshot(keys.size(), connections.get(), handshakeFailures.get(), requests.get(), signed.get(),
                errors.get());
    }

    /** Counters of the key server. */
    public record Snapshot(int keys, long connections, long handshakeFailures, long requests, long signed,
                           long errors) {
    }

    /** Stops listening, closes the connections and the worker pool. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().syncUninterruptibly();
        children.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        shutdownResources();
    }

    private void shutdownResources() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
        ReferenceCountUtil.release(sslContext);
    }

    KeylessResponse handle(KeylessRequest req) {
        if (req.op() != KeylessProtocol.OP_SIGN) {
            return KeylessResponse.error(req.id(), KeylessProtocol.STATUS_UNSUPPORTED_OP,
                    KeylessProtocol.opName(req.op()) + " is not supported (only SIGN: ECDHE key exchange)");
        }
        PrivateKey key = keys.get(req.keyId());
        if (key == null) {
            return KeylessResponse.error(req.id(), KeylessProtocol.STATUS_KEY_NOT_FOUND, "no key " + req.keyId());
        }
        try {
            return KeylessResponse.ok(req.id(), SignatureSchemes.sign(req.scheme(), key, req.payload()));
        } catch (SignatureSchemes.UnsupportedSchemeException e) {
            return KeylessResponse.error(req.id(), KeylessProtocol.STATUS_UNSUPPORTED_SCHEME, e.getMessage());
        } catch (GeneralSecurityException | RuntimeException e) {
            return KeylessResponse.error(req.id(), KeylessProtocol.STATUS_INTERNAL_ERROR, "signing failed: " + e);
        }
    }

    @ChannelHandler.Sharable
    private final class RequestHandler extends SimpleChannelInboundHandler<KeylessRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, KeylessRequest req) {
            requests.incrementAndGet();
            Channel ch = ctx.channel();
            try {
                workers.execute(() -> {
                    KeylessResponse resp = handle(req);
                    if (resp.isOk()) {
                        signed.incrementAndGet();
                    } else {
                        errors.incrementAndGet();
                    }
                    ch.writeAndFlush(resp);
                });
            } catch (RejectedExecutionException e) {
                errors.incrementAndGet();
                ctx.writeAndFlush(KeylessResponse.error(req.id(), KeylessProtocol.STATUS_OVERLOADED,
                        "key server overloaded"));
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
                handshakeFailures.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, "refused {0}: {1}", ctx.channel().remoteAddress(), hs.cause());
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "closing {0}: {1}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** Configuration of a {@link KeyServer}. */
    public static final class Builder {
        private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
        private final Map<KeyId, PrivateKey> keys = new LinkedHashMap<>();
        private SslContext sslContext;
        private int ioThreads = 1;
        private int workerThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private int maxQueuedRequests = 4096;

        public Builder listen(InetSocketAddress address) {
            this.listen = Objects.requireNonNull(address);
            return this;
        }

        /** Adds a private key (RSA or EC), indexed by the SHA-256 of its public key's SubjectPublicKeyInfo. */
        public Builder addKey(PrivateKey key) throws GeneralSecurityException {
            keys.put(PemKeys.keyIdOf(key), key);
            return this;
        }

        /** Adds every private key of a PEM file. */
        public Builder addKeyFile(Path pem) throws IOException, GeneralSecurityException {
            List<PrivateKey> found = PemKeys.readPrivateKeys(pem);
            if (found.isEmpty()) {
                throw new GeneralSecurityException("no private key in " + pem);
            }
            for (PrivateKey k : found) {
                addKey(k);
            }
            return this;
        }

        /**
         * Adds the private keys of every regular file in {@code dir} (not recursive) that holds one; files without a
         * PEM private key (certificates, notes) are skipped, a file with a broken key fails the load.
         */
        public Builder addKeyDirectory(Path dir) throws IOException, GeneralSecurityException {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                List<Path> sorted = new ArrayList<>();
                files.forEach(sorted::add);
                Collections.sort(sorted);
                for (Path f : sorted) {
                    if (!Files.isRegularFile(f) || Files.size(f) > 1 << 20) {
                        continue;
                    }
                    String text = Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1);
                    if (!text.contains("PRIVATE KEY-----")) {
                        continue;
                    }
                    try {
                        for (PrivateKey k : PemKeys.readPrivateKeys(text)) {
                            addKey(k);
                        }
                    } catch (GeneralSecurityException e) {
                        throw new GeneralSecurityException(f + ": " + e.getMessage(), e);
                    }
                }
            }
            return this;
        }

        /** The TLS context of the listener; it must require client certificates. */
        public Builder sslContext(SslContext context) {
            if (!context.isServer()) {
                throw new IllegalArgumentException("key server needs a server SslContext");
            }
            this.sslContext = context;
            return this;
        }

        /**
         * Builds the listener's context: its certificate chain and key (PEM), and the CA that client (gateway)
         * certificates must chain to. Client certificates are required. TLS 1.3 and 1.2.
         */
        public Builder tls(Path certChainPem, Path keyPem, Path clientCaPem) throws IOException {
            this.sslContext = serverSslContext(certChainPem, keyPem, clientCaPem);
            return this;
        }

        public Builder ioThreads(int n) {
            this.ioThreads = positive(n);
            return this;
        }

        public Builder workerThreads(int n) {
            this.workerThreads = positive(n);
            return this;
        }

        public Builder maxQueuedRequests(int n) {
            this.maxQueuedRequests = positive(n);
            return this;
        }

        public KeyServer start() throws InterruptedException {
            if (sslContext == null) {
                throw new IllegalStateException("key server needs TLS: call tls(cert, key, clientCa) or sslContext()");
            }
            return new KeyServer(this);
        }

        private static int positive(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("must be positive: " + n);
            }
            return n;
        }
    }

    /** The mTLS server context the key server uses by default (client certificate required). */
    public static SslContext serverSslContext(Path certChainPem, Path keyPem, Path clientCaPem) throws IOException {
        return SslContextBuilder.forServer(certChainPem.toFile(), keyPem.toFile())
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                .trustManager(clientCaPem.toFile())
                .clientAuth(ClientAuth.REQUIRE)
                .build();
    }
}
