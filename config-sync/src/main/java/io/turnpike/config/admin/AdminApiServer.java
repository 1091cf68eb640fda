package io.turnpike.config.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.turnpike.config.ConfigLimits;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.process.AdminConfig;
import io.turnpike.config.store.ConfigStore;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The Admin API server: HTTP/1.1 on {@code deployment.admin.admin_listen}, on its own one-thread event loop group
 * (never the data plane's loops) with a small worker pool for the blocking store calls.
 *
 * <pre>{@code
 * AdminApiServer admin = new AdminApiServer(processConfig.admin(), store, "/apisix", AdminApiServer.Options.DEFAULTS);
 * InetSocketAddress bound = admin.start();   // binds; throws if the port is taken
 * ...
 * admin.stop();                              // closes the listener and connections, stops its threads
 * }</pre>
 *
 * For standalone-file deployments: {@link #readOnly(AdminConfig, Supplier, String, Options)}.
 */
public final class AdminApiServer implements AutoCloseable {

    /**
     * @param maxBodyBytes  largest request body accepted (413 beyond, before the rest is read); default
     *                      {@link ConfigLimits#adminMaxBodyBytes()} (1.5 MiB)
     * @param workerThreads threads running store calls; default 2
     * @param queueSize     requests waiting for a worker before 503; default 256
     * @param readOnly      GETs only; writes answer 405 with {@link AdminService#READ_ONLY_MESSAGE}
     * @param maxValueBytes largest value written to the store (413 beyond); default
     *                      {@link ConfigLimits#maxValueBytes()}, the limit the gateway decodes
     */
    public record Options(int maxBodyBytes, int workerThreads, int queueSize, boolean readOnly, int maxValueBytes) {
        public static final Options DEFAULTS = new Options(ConfigLimits.adminMaxBodyBytes(), 2, 256, false,
                ConfigLimits.maxValueBytes());

        public Options(int maxBodyBytes, int workerThreads, int queueSize, boolean readOnly) {
            this(maxBodyBytes, workerThreads, queueSize, readOnly, ConfigLimits.maxValueBytes());
        }

        public Options withReadOnly(boolean ro) {
            return new Options(maxBodyBytes, workerThreads, queueSize, ro, maxValueBytes);
        }

        public Options withMaxBodyBytes(int max) {
            return new Options(max, workerThreads, queueSize, readOnly, maxValueBytes);
        }

        public Options withMaxValueBytes(int max) {
            return new Options(maxBodyBytes, workerThreads, queueSize, readOnly, max);
        }
    }

    private final AdminConfig config;
    private final AdminService service;
    private final AdminAuth auth;
    private final AllowList allow;
    private final Options options;
    private EventLoopGroup group;
    private ThreadPoolExecutor workers;
    private Channel listener;

    /**
     * @param config the process's {@code deployment.admin} section (keys, listen address, allow list)
     * @param store  the shared store (etcd); writes go through it, reads come from it
     * @param prefix the etcd prefix, e.g. {@code /apisix}
     * @throws IllegalArgumentException when the keys or the allow list are invalid, or no key is configured while
     *                                  {@code admin_key_required} is true
     */
    public AdminApiServer(AdminConfig config, ConfigStore store, String prefix, Options options) {
        this.config = config;
        this.options = options;
        this.service = new AdminService(store, prefix, options.readOnly(), options.maxValueBytes());
        this.auth = new AdminAuth(config.adminKeys(), config.adminKeyRequired());
        this.allow = new AllowList(config.allowAdmin());
    }

    /** A read-only Admin API over the configuration in force (standalone file): GETs read {@code current}. */
    public static AdminApiServer readOnly(AdminConfig config, Supplier<ConfigSet> current, String prefix,
                                          Options options) {
        return new AdminApiServer(config, new ConfigSetStore(current, prefix), prefix, options.withReadOnly(true));
    }

    public AdminService service() {
        return service;
    }

    /** Binds {@code admin_listen} (port 0 = any free port) and returns the bound address. */
    public synchronized InetSocketAddress start() throws InterruptedException {
        if (listener != null) {
            throw new IllegalStateException("already started");
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-admin-io", true,
                io.turnpike.config.threads.ControlPlaneThreads.PRIORITY),
                NioIoHandler.newFactory());
        workers = new ThreadPoolExecutor(options.workerThreads(), options.workerThreads(), 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(options.queueSize()), new DefaultThreadFactory("turnpike-admin-worker", true,
                io.turnpike.config.threads.ControlPlaneThreads.PRIORITY));
        int maxBody = options.maxBodyBytes();
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(8192, 65536, 8192));
                            ch.pipeline().addLast(new AdminGate(allow, auth)); // 403/401 before any body is held
                            ch.pipeline().addLast(new JsonAggregator(maxBody));
                            ch.pipeline().addLast(new AdminApiHandler(service, auth, allow, workers));
                        }
                    });
            listener = b.bind(config.adminListen().ip(), config.adminListen().port()).sync().channel();
            return (InetSocketAddress) listener.localAddress();
        } catch (InterruptedException | RuntimeException e) {
            stop();
            throw e;
        }
    }

    public synchronized InetSocketAddress localAddress() {
        return listener == null ? null : (InetSocketAddress) listener.localAddress();
    }

    /** Closes the listener and every connection; idempotent. */
    public synchronized void stop() {
        if (listener != null) {
            listener.close().awaitUninterruptibly();
            listener = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            group = null;
        }
        if (workers != null) {
            workers.shutdownNow();
            workers = null;
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** An aggregator whose 413 carries APISIX's JSON error body. */
    private static final class JsonAggregator extends HttpObjectAggregator {
        private final int max;

        JsonAggregator(int max) {
            super(max, true);
            this.max = max;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            AdminApiHandler.write(ctx, AdminResponse.error(413, "invalid request body: request body is larger than "
                    + max + " bytes"), false);
        }
    }
}
