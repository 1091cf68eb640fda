package io.turnpike.engine;

import io.netty.channel.epoll.Epoll;
import io.netty.util.Version;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.process.KeyServerConfig;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.config.process.SslListen;
import io.turnpike.config.process.TurnpikeSettings;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.ops.OpsCli;
import io.turnpike.engine.server.GatewayServer;
import io.turnpike.engine.server.Transport;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.snapshot.SnapshotUpdater;
import io.turnpike.config.source.StandaloneFileSource;
import io.turnpike.config.source.StandaloneFileWatcher;
import io.turnpike.config.admin.AdminApiServer;
import io.turnpike.config.etcd.EtcdConfigSource;
import io.turnpike.config.etcd.EtcdConfigStore;
import io.turnpike.engine.status.StatusServer;
import io.turnpike.engine.prometheus.PrometheusExporter;
import io.turnpike.engine.prometheus.PrometheusRecorder;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.config.process.PrometheusAttr;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.tls.HttpsListen;
import io.turnpike.engine.tls.TlsCompiler;
import io.turnpike.tls.TlsDefaults;
import io.turnpike.tls.BoringSsl;
import io.turnpike.tls.keyless.KeyServerMain;
import io.turnpike.tls.keyless.KeylessClient;
import io.turnpike.tls.keyless.KeylessClients;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The {@code turnpike} command line: {@code start [-c conf/config.yaml]}, {@code validate [-c config.yaml]
 * [apisix.yaml]}, {@code keyserver ...} (the keyless key server, {@link KeyServerMain}), {@code version}. Exit codes: 0 success, 1 invalid configuration, 2 usage error, 3 start failure.
 */
public final class TurnpikeMain {
    static final String DEFAULT_CONFIG = "conf/config.yaml";

    private TurnpikeMain() {
    }

    /** When {@link #main} began (System.nanoTime), for the start-up report; 0 when run from tests. */
    private static volatile long mainNs;
    /**
     * Milliseconds from the launcher's start ({@code TURNPIKE_LAUNCH_US}, set by {@code bin/turnpike}) to {@link #main};
     * -1 when unknown (started without the launcher).
     */
    private static volatile long mainAfterLaunchMs = -1;
    /** When the listeners were bound (System.nanoTime), for the start-up report. */
    private static volatile long listeningNs;

    public static void main(String[] args) {
        mainNs = System.nanoTime();
        mainAfterLaunchMs = launchToMainMs(System.getenv("TURNPIKE_LAUNCH_US"));
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return 2;
        }
        String cmd = args[0];
        if (cmd.equals("keyserver")) {
            // Its own options (--listen, --keys, ...): handed over as they are.
            try {
                return KeyServerMain.run(Arrays.copyOfRange(args, 1, args.length), out, err);
            } catch (Exception e) {
                err.println("turnpike keyserver: " + e.getMessage());
                return 3;
            }
        }
        String configPath = null;
        String prefix = null;
        Long pid = null;
        List<String> positional = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-c") || a.equals("--config")) {
                if (i + 1 >= args.length) {
                    err.println("turnpike: " + a + " needs a file");
                    return 2;
                }
                configPath = args[++i];
            } else if (a.equals("-p") || a.equals("--prefix")) {
                if (i + 1 >= args.length) {
                    err.println("turnpike: " + a + " needs a folder");
                    return 2;
                }
                prefix = args[++i];
            } else if (a.equals("--pid") && OpsCli.SIGNAL_COMMANDS.contains(cmd)) {
                if (i + 1 >= args.length || !args[i + 1].matches("[1-9][0-9]{0,18}")) {
                    err.println("turnpike: --pid needs a process id");
                    return 2;
                }
                pid = Long.parseLong(args[++i]);
            } else if (a.startsWith("-")) {
                err.println("turnpike: unknown option " + a);
                usage(err);
                return 2;
            } else {
                positional.add(a);
            }
        }
        try {
            return switch (cmd) {
                case "start" -> start(configPath, prefix, out, err);
                case "validate" -> validate(configPath, positional, out, err);
                case "test" -> OpsCli.test(configPath, positional, out, err);
                case "stop", "quit", "reload" -> OpsCli.signal(cmd, configPath, prefix, pid, out, err);
                case "version", "-v", "--version" -> version(out);
                case "help", "-h", "--help" -> {
                    usage(out);
                    yield 0;
                }
                default -> {
                    err.println("turnpike: unknown command '" + cmd + "'");
                    usage(err);
                    yield 2;
                }
            };
        } catch (Exception e) {
            err.println("turnpike: " + e.getMessage());
            return 3;
        }
    }

    static void usage(PrintStream s) {
        s.println("usage: turnpike start [-c conf/config.yaml] [-p PREFIX]");
        s.println("                                                start the gateway (PID file: turnpike.pid_file,");
        s.println("                                                default PREFIX/logs/turnpike.pid, PREFIX = .)");
        s.println("       turnpike quit [-c FILE] [-p PREFIX] [--pid N]   graceful stop (drain), waits for the exit");
        s.println("       turnpike stop [-c FILE] [-p PREFIX] [--pid N]   fast stop (drain cut short)");
        s.println("       turnpike reload [-c FILE] [-p PREFIX] [--pid N] re-read config.yaml (SIGHUP); prints what");
        s.println("                                                applied and what needs a restart");
        s.println("       turnpike test [-c conf/config.yaml]      test the configuration (like nginx -t)");
        s.println("       turnpike validate [-c conf/config.yaml] [conf/apisix.yaml]");
        s.println("                                                check the process config and the standalone file");
        s.println("       turnpike keyserver --listen HOST:PORT --keys DIR|FILE [--keys ...] --cert CHAIN.pem --key KEY.pem");
        s.println("                          --client-ca CA.pem [--workers N]");
        s.println("                                                run a keyless key server (mutual TLS)");
        s.println("       turnpike version                         print versions and native library status");
    }

    static int version(PrintStream out) {
        out.println("turnpike " + io.turnpike.engine.Version.VERSION);
        out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        Version netty = Version.identify().get("netty-transport");
        out.println("netty " + (netty == null ? "unknown" : netty.artifactVersion()));
        out.println("transport epoll: " + (Epoll.isAvailable() ? "available" : "unavailable (" + Epoll.unavailabilityCause() + ")"));
        out.println("transport io_uring: " + (io.netty.channel.uring.IoUring.isAvailable() ? "available"
                : "unavailable (" + io.netty.channel.uring.IoUring.unavailabilityCause() + ")"));
        out.println("tls: " + BoringSsl.describe());
        return 0;
    }

    /** Loads the process config: an explicit -c must exist; the default path may be absent (all defaults). */
    static ProcessConfigResult loadProcessConfig(String configPath) {
        if (configPath != null) {
            return ProcessConfigLoader.loadExplicit(Path.of(configPath));
        }
        return ProcessConfigLoader.load(Path.of(DEFAULT_CONFIG));
    }

    static boolean report(ProcessConfigResult r, PrintStream err) {
        for (ConfigProblem w : r.warnings()) {
            err.println("warning: " + w.render());
        }
        for (ConfigProblem e : r.errors()) {
            err.println("error: " + e.render());
        }
        return r.ok();
    }

    static int validate(String configPath, List<String> positional, PrintStream out, PrintStream err) {
        Path standalone;
        if (!positional.isEmpty()) {
            if (configPath != null) {
                ProcessConfigResult pr = loadProcessConfig(configPath);
                if (!report(pr, err)) {
                    return 1;
                }
            }
            standalone = Path.of(positional.get(0));
        } else {
            ProcessConfigResult pr = loadProcessConfig(configPath);
            if (!report(pr, err)) {
                return 1;
            }
            standalone = pr.config().turnpike().standaloneFile();
        }
        LoadResult lr = StandaloneFileLoader.load(standalone);
        if (!lr.ok()) {
            err.print(lr.render());
            err.println(standalone + ": invalid, " + lr.problems().size() + " problem(s)");
            return 1;
        }
        out.println(standalone + ": ok (" + lr.config().routes().size() + " routes, "
                + lr.config().services().size() + " services, " + lr.config().upstreams().size() + " upstreams)");
        return 0;
    }

    public static EngineSettings engineSettings(TurnpikeSettings t) {
        return new EngineSettings(t.maxRequestLineBytes(), t.maxHeaderBytes(), t.maxHeaders(), t.maxBodyBytes(),
                TimeUnit.MILLISECONDS.toNanos(t.headerTimeoutMs()), TimeUnit.MILLISECONDS.toNanos(t.keepaliveTimeoutMs()),
                t.upstreamConnectTimeoutMs(), TimeUnit.MILLISECONDS.toNanos(t.upstreamReadTimeoutMs()),
                TimeUnit.MILLISECONDS.toNanos(t.upstreamSendTimeoutMs()), t.upstreamPoolSize(),
                TimeUnit.MILLISECONDS.toNanos(t.upstreamIdleTimeoutMs()),
                t.upstreamMaxRequests(), t.drainTimeoutMs(), t.pipelineBufferBytes(), t.maxConnectionsPerLoop());
    }

    static int start(String configPath, String prefix, PrintStream out, PrintStream err) throws Exception {
        ProcessConfigResult pr = loadProcessConfig(configPath);
        if (!report(pr, err)) {
            return 1;
        }
        ProcessConfig pc = pr.config();
        OpsCli.Options ops = new OpsCli.Options(configPath != null, OpsCli.prefix(prefix));
        if (pc.controlPlaneOnly()) {
            return startControlPlane(pc, ops, out, err);
        }
        // The JIT warm-up runs beside the configuration load and the listeners' start (docs/startup.md).
        io.turnpike.engine.warmup.ProxyWarmup.startFromEnvironment(engineSettings(pc.turnpike()), err);
        Running running;
        if (!pc.standalone()) {
            running = Running.startWithEtcd(pc, out, err);
        } else {
            running = startStandalone(pc, out, err);
            if (running == null) {
                return 1;
            }
        }
        return awaitTermination(running, pc, ops, out, err);
    }

    /**
     * Role {@code control_plane} (APISIX's decoupled deployment): the Admin API writing to etcd through one client, no
     * data plane and no watch. Data-plane gateways ({@code role: data_plane}) pick the changes up from etcd.
     */
    static int startControlPlane(ProcessConfig pc, OpsCli.Options opsOptions, PrintStream out, PrintStream err)
            throws Exception {
        if (pc.admin().adminKeys().isEmpty() && pc.admin().adminKeyRequired()) {
            err.println("error: role control_plane: deployment.admin.admin_key is empty (set a key, or"
                    + " admin_key_required: false)");
            return 1;
        }
        EtcdConfigStore store = new EtcdConfigStore(pc.etcd());
        AdminApiServer admin = new AdminApiServer(pc.admin(), store, pc.etcd().prefix(),
                AdminApiServer.Options.DEFAULTS);
        try {
            admin.start();
        } catch (Exception | Error e) {
            store.close();
            throw e;
        }
        out.println("turnpike " + io.turnpike.engine.Version.VERSION + " started (control plane): admin "
                + admin.localAddress() + ", writing to etcd " + pc.etcd().hosts() + " prefix " + pc.etcd().prefix());
        out.flush();
        // The HUP handler before the PID file, as in the data plane (an unhandled SIGHUP makes the JVM exit).
        java.util.concurrent.atomic.AtomicReference<io.turnpike.engine.ops.ProcessOperations> started =
                new java.util.concurrent.atomic.AtomicReference<>();
        reloadOnHangup(started, "starting", out, err);
        io.turnpike.engine.ops.ProcessOperations ops;
        try {
            ops = io.turnpike.engine.ops.ProcessOperations.start(pc, opsOptions.configMustExist(),
                    opsOptions.prefix(), null, null, out);
        } catch (Exception e) {
            admin.stop();
            store.close();
            throw e;
        }
        started.set(ops);
        CountDownLatch stopped = new CountDownLatch(1);
        Signals.onTermination(() -> new Thread(() -> {
            try {
                admin.stop();
            } finally {
                store.close();
                ops.close();
                out.println("turnpike: stopped");
                out.flush();
                stopped.countDown();
            }
        }, "turnpike-drain").start());
        stopped.await();
        return 0;
    }

    private static Running startStandalone(ProcessConfig pc, PrintStream out, PrintStream err) throws Exception {
        Path standalone = pc.turnpike().standaloneFile();
        if (!Files.exists(standalone)) {
            err.println("error: standalone file " + standalone + " does not exist");
            return null;
        }
        LoadResult lr = StandaloneFileLoader.load(standalone);
        if (!lr.ok()) {
            err.print(lr.render());
            err.println("error: " + standalone + " refused, " + lr.problems().size() + " problem(s)");
            return null;
        }
        return Running.start(pc, lr, out, err);
    }

    private static int awaitTermination(Running running, ProcessConfig pc, OpsCli.Options opsOptions,
                                        PrintStream out, PrintStream err) throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<io.turnpike.engine.ops.ProcessOperations> ops =
                new java.util.concurrent.atomic.AtomicReference<>();
        Runnable drain = () -> {
            out.println("turnpike: draining (up to " + running.drainTimeoutMs() + " ms)");
            out.flush();
            boolean clean = running.drain();
            io.turnpike.engine.ops.ProcessOperations o = ops.getAndSet(null);
            if (o != null) {
                o.close();
            }
            out.println("turnpike: stopped" + (clean ? "" : " (drain cut short or timed out, remaining connections"
                    + " closed)"));
            stopped.countDown();
        };
        // Handlers first: a SIGTERM right after "started" drains.
        Signals.onStop(() -> new Thread(drain, "turnpike-drain").start(), () -> {
            out.println("turnpike: fast stop: closing the connections still open");
            running.server.cutDrainShort();
        });
        Signals.onReopen(() -> io.turnpike.engine.logs.LogWriter.get().requestReopen());
        // The PID file names a process that serves: with etcd, once every loop has its first snapshot (bounded: an
        // etcd that is down must not leave the process without a PID file).
        long readyBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!running.server.publisher().allLoopsReady() && System.nanoTime() - readyBy < 0
                && stopped.getCount() > 0) {
            Thread.sleep(20);
        }
        if (stopped.getCount() == 0) {
            return 0;
        }
        if (running.server.publisher().allLoopsReady()) {
            reportStartup(running, out);
        }
        // SIGHUP before the PID file: the JVM's own handling of an unhandled SIGHUP is to exit. A `turnpike reload`
        // that finds the PID file (written by ProcessOperations.start) must find this handler already installed.
        reloadOnHangup(ops, "starting or stopping", out, err);
        try {
            ops.set(io.turnpike.engine.ops.ProcessOperations.start(pc, opsOptions.configMustExist(),
                    opsOptions.prefix(), running.updater::current, running::drainTimeoutMs, out));
        } catch (Exception e) {
            running.close();
            err.println("error: " + e.getMessage());
            return 3;
        }
        io.turnpike.engine.ops.ProcessOperations started = ops.get();
        if (stopped.getCount() == 0 && started != null && ops.compareAndSet(started, null)) {
            started.close(); // the drain ran while the PID file was being written
        } else if (started != null) {
            io.turnpike.engine.ops.ProcessOperations o = started;
            if (running.watchers != null) {
                running.watchers.attach(o);
            }
            out.println("turnpike: pid " + ProcessHandle.current().pid() + " in " + o.pidFile()
                    + (o.controlAddress() == null ? "" : ", control API " + o.controlAddress())
                    + (running.server.publisher().allLoopsReady() ? "" : " (not ready yet: no snapshot)"));
            out.flush();
        }
        stopped.await();
        out.flush();
        return 0;
    }

    static long launchToMainMs(String launchMicros) {
        if (launchMicros == null || !launchMicros.matches("[0-9]{1,18}")) {
            return -1;
        }
        long ms = System.currentTimeMillis() - Long.parseLong(launchMicros) / 1000;
        return ms >= 0 && ms < 600_000 ? ms : -1;
    }

    /**
     * SIGHUP reloads the process configuration through whatever {@code ops} holds; while it holds nothing (the
     * process is {@code phase}) the signal is ignored with a line. Installed before the PID file is written: the
     * JVM's own handling of an unhandled SIGHUP is to exit. Warns when the process inherited SIGHUP as ignored.
     */
    private static void reloadOnHangup(
            java.util.concurrent.atomic.AtomicReference<io.turnpike.engine.ops.ProcessOperations> ops, String phase,
            PrintStream out, PrintStream err) {
        boolean installed = Signals.onHangup(() -> {
            io.turnpike.engine.ops.ProcessOperations o = ops.get();
            if (o != null) {
                o.reloader().reload();
            } else {
                out.println("turnpike: SIGHUP ignored: " + phase + ", nothing to reload");
                out.flush();
            }
        });
        if (!installed) {
            err.println(Signals.HUP_IGNORED);
        }
    }

    /**
     * One line on where start-up time went (docs/startup.md): launch to main, listeners bound, and with etcd the
     * first full list's phases (range reads, JSON parse, decode and validation, snapshot compile, publication).
     */
    private static void reportStartup(Running running, PrintStream out) throws InterruptedException {
        long start = mainNs;
        if (start == 0) {
            return;
        }
        // The loops are ready a moment before the config-sync thread records its timings (it waits for them): wait
        // for those, briefly.
        for (int i = 0; i < 100 && (running.updater.appliedCount() == 0
                || running.etcdSource != null && running.etcdSource.lastFullList() == null); i++) {
            Thread.sleep(5);
        }
        long jvm = Math.max(0, mainAfterLaunchMs);
        StringBuilder b = new StringBuilder("turnpike: start-up: launch to main ").append(mainAfterLaunchMs)
                .append(" ms, listening at ").append(jvm + (listeningNs - start) / 1_000_000).append(" ms");
        EtcdConfigSource.FullListTimings f = running.etcdSource == null ? null : running.etcdSource.lastFullList();
        if (f != null) {
            // the pages are parsed and decoded while the next one is read: "waiting" is what was not overlapped
            b.append("; etcd: ").append(f.keys()).append(" keys listed (waiting for pages ")
                    .append(f.listNs() / 1_000_000).append(" ms), parsed and decoded in ")
                    .append(f.parseNs() / 1_000_000).append(" ms, validated in ").append(f.decodeNs() / 1_000_000)
                    .append(" ms");
        }
        b.append("; first snapshot compiled in ").append(running.updater.firstCompileNs() / 1_000_000)
                .append(" ms, applied on all loops in ").append(running.updater.firstPublishNs() / 1_000_000)
                .append(" ms; serving ").append(jvm + (System.nanoTime() - start) / 1_000_000)
                .append(" ms after launch");
        out.println(b);
        out.flush();
    }

    /** A started gateway: data plane plus status listener. Used by the CLI and by integration tests. */
    public static final class Running implements AutoCloseable {
        public final GatewayServer server;
        public final StatusServer status;
        public final InetSocketAddress statusAddress;
        public final SnapshotUpdater updater;
        /** Null when the Admin API is disabled. */
        public final AdminApiServer admin;
        /** Null in standalone-file mode. */
        public final EtcdConfigSource etcdSource;
        /** The keyless key server clients ({@code turnpike.keyless}); null when none are configured. */
        public final KeylessClients keyless;
        /** The Prometheus exporter; null when {@code plugin_attr.prometheus.enable_export_server} is false. */
        public final PrometheusExporter prometheus;
        /** Where {@link #prometheus} listens; null without it. */
        public final InetSocketAddress prometheusAddress;
        private volatile long drainTimeoutMs;
        private final Runnable stopConfigSync;
        /** {@code plugin_attr.opentelemetry}: the span exporter is stopped with the gateway (after the loops). */
        private io.turnpike.config.process.OpenTelemetryAttr tracing;
        /** The DNS resolver and health checker of the upstreams; stopped with the gateway. */
        public Watchers watchers;

        private Running(GatewayServer server, StatusServer status, InetSocketAddress statusAddress, long drainTimeoutMs,
                        Runnable stopConfigSync, SnapshotUpdater updater, AdminApiServer admin,
                        EtcdConfigSource etcdSource, KeylessClients keyless, PrometheusExporter prometheus,
                        InetSocketAddress prometheusAddress) {
            this.keyless = keyless;
            this.prometheus = prometheus;
            this.prometheusAddress = prometheusAddress;
            this.server = server;
            this.status = status;
            this.statusAddress = statusAddress;
            this.drainTimeoutMs = drainTimeoutMs;
            this.stopConfigSync = stopConfigSync;
            this.updater = updater;
            this.admin = admin;
            this.etcdSource = etcdSource;
        }

        /**
         * Starts the data plane on an already validated first load of the standalone file, then watches the file:
         * later changes are compiled on the config-sync thread and published to every loop. The Admin API, when
         * enabled, serves reads of the file's configuration and refuses writes.
         */
        public static Running start(ProcessConfig pc, LoadResult config, PrintStream out, PrintStream err)
                throws Exception {
            TurnpikeSettings t = pc.turnpike();
            EngineSettings settings = engineSettings(t);
            KeylessClients keyless = keylessClients(t);
            io.turnpike.engine.trace.SpanExportAgent.configure(pc.opentelemetry());
            try {
                Running r = start(pc, config, out, err, t, settings, keyless);
                r.tracing = pc.opentelemetry();
                return r;
            } catch (Exception | Error e) {
                closeQuietly(keyless);
                io.turnpike.engine.trace.SpanExportAgent.shutdown(pc.opentelemetry());
                throw e;
            }
        }

        private static Running start(ProcessConfig pc, LoadResult config, PrintStream out, PrintStream err,
                                     TurnpikeSettings t, EngineSettings settings, KeylessClients keyless)
                throws Exception {
            GatewayServer server = newServer(pc, settings);
            installLogs(t, server);
            List<PrometheusRecorder> recorders = installPrometheus(server, pc.prometheus());
            SnapshotCompiler compiler = snapshotCompiler(pc, settings, keyless);
            compiler.endpointPublisher(server.endpointPublisher());
            Watchers watchers = Watchers.start(pc, compiler, err);
            SnapshotUpdater updater = new SnapshotUpdater(compiler, server.publisher(), err);
            updater.onConfig(config.config());
            server.start();
            StatusServer status = new StatusServer(server, () -> "{\"type\":\"yaml\",\"file\":\""
                    + t.standaloneFile() + "\",\"rejected\":" + updater.rejectedCount() + "}", keylessJson(keyless));
            InetSocketAddress statusAddress = status.start(
                    new InetSocketAddress(t.statusListen().ip(), t.statusListen().port()));
            PrometheusExporter prometheus = startPrometheus(pc, server, recorders, updater, null, status);
            if (prometheus != null) {
                prometheus.healthChecker(watchers.health.checker());
            }
            // The file was loaded once above; from here on the config-sync thread delivers changes.
            StandaloneFileSource source = new StandaloneFileSource(t.standaloneFile());
            StandaloneFileWatcher watcher = new StandaloneFileWatcher(source, StandaloneFileWatcher.DEFAULT_POLL_INTERVAL_MS);
            source.attach(updater);
            watcher.start();
            AdminApiServer admin = null;
            if (pc.admin().enabled() && pc.admin().adminKeys().isEmpty() && pc.admin().adminKeyRequired()) {
                err.println("warning: Admin API not started: deployment.admin.admin_key is empty "
                        + "(set a key, or admin_key_required: false)");
            } else if (pc.admin().enabled()) {
                admin = AdminApiServer.readOnly(pc.admin(), updater::current, pc.etcd().prefix(),
                        AdminApiServer.Options.DEFAULTS.withReadOnly(true));
                admin.start();
            }
            listeningNs = System.nanoTime();
            Snapshot snapshot = server.publisher().latest();
            out.println("turnpike " + io.turnpike.engine.Version.VERSION + " started: " + server.loops().size()
                    + " event loops (" + server.transport().configName() + "), http " + server.boundAddresses()
                    + (server.httpsBoundAddresses().isEmpty() ? "" : ", https " + server.httpsBoundAddresses())
                    + ", status " + statusAddress + (admin == null ? "" : ", admin (read-only) " + admin.localAddress())
                    + ", " + snapshot.routes.size() + " routes from " + t.standaloneFile() + " (watched)");
            out.flush();
            Running running = new Running(server, status, statusAddress, t.drainTimeoutMs(), watcher::close, updater, admin, null,
                    keyless, prometheus, prometheus == null ? null : prometheus.address());
            running.watchers = watchers;
            return running;
        }

        /**
         * Starts with etcd as the configuration provider: listeners first (answering 503 and {@code /status/ready}
         * 503 until the first snapshot), then one etcd client and one watch on the config-sync thread; with role
         * {@code traditional} the Admin API writes through the same client.
         */
        public static Running startWithEtcd(ProcessConfig pc, PrintStream out, PrintStream err) throws Exception {
            TurnpikeSettings t = pc.turnpike();
            EngineSettings settings = engineSettings(t);
            KeylessClients keyless = keylessClients(t);
            io.turnpike.engine.trace.SpanExportAgent.configure(pc.opentelemetry());
            try {
                Running r = startWithEtcd(pc, out, err, t, settings, keyless);
                r.tracing = pc.opentelemetry();
                return r;
            } catch (Exception | Error e) {
                closeQuietly(keyless);
                io.turnpike.engine.trace.SpanExportAgent.shutdown(pc.opentelemetry());
                throw e;
            }
        }

        private static Running startWithEtcd(ProcessConfig pc, PrintStream out, PrintStream err, TurnpikeSettings t,
                                             EngineSettings settings, KeylessClients keyless) throws Exception {
            // The first list (etcd's pages read, parsed and decoded) runs while the rest of the process starts; it is
            // delivered once the updater is there (source.start below). docs/startup.md
            EtcdConfigStore store = new EtcdConfigStore(pc.etcd());
            EtcdConfigSource source = new EtcdConfigSource(store);
            try {
                source.prefetch();
                return startWithEtcd(pc, out, err, t, settings, keyless, store, source);
            } catch (Exception | Error e) {
                source.close();
                store.close();
                throw e;
            }
        }

        private static Running startWithEtcd(ProcessConfig pc, PrintStream out, PrintStream err, TurnpikeSettings t,
                                             EngineSettings settings, KeylessClients keyless, EtcdConfigStore store,
                                             EtcdConfigSource source) throws Exception {
            GatewayServer server = newServer(pc, settings);
            installLogs(t, server);
            List<PrometheusRecorder> recorders = installPrometheus(server, pc.prometheus());
            SnapshotCompiler compiler = snapshotCompiler(pc, settings, keyless);
            compiler.endpointPublisher(server.endpointPublisher());
            Watchers watchers = Watchers.start(pc, compiler, err);
            SnapshotUpdater updater = new SnapshotUpdater(compiler, server.publisher(), err);
            server.start();
            StatusServer status = new StatusServer(server, () -> "{\"type\":\"etcd\",\"connected\":"
                    + source.isConnected() + ",\"revision\":" + source.lastRevision() + ",\"rejected\":"
                    + source.rejectedCount() + ",\"last_error\":" + jsonString(source.lastError()) + "}",
                    keylessJson(keyless));
            InetSocketAddress statusAddress = status.start(
                    new InetSocketAddress(t.statusListen().ip(), t.statusListen().port()));
            PrometheusExporter prometheus = startPrometheus(pc, server, recorders, updater,
                    new PrometheusExporter.EtcdState() {
                        @Override
                        public boolean reachable() {
                            return source.isConnected();
                        }

                        @Override
                        public Map<String, Long> modifyIndexes() {
                            return source.modifyIndexes();
                        }

                        @Override
                        public long revision() {
                            return source.lastRevision();
                        }
                    }, status);
            if (prometheus != null) {
                prometheus.healthChecker(watchers.health.checker());
            }
            source.start(updater);
            AdminApiServer admin = null;
            if (pc.admin().enabled() && "traditional".equals(pc.role())) {
                admin = new AdminApiServer(pc.admin(), store, pc.etcd().prefix(), AdminApiServer.Options.DEFAULTS);
                admin.start();
            }
            listeningNs = System.nanoTime();
            out.println("turnpike " + io.turnpike.engine.Version.VERSION + " started: " + server.loops().size()
                    + " event loops (" + server.transport().configName() + "), http " + server.boundAddresses()
                    + (server.httpsBoundAddresses().isEmpty() ? "" : ", https " + server.httpsBoundAddresses())
                    + ", status " + statusAddress + (admin == null ? "" : ", admin " + admin.localAddress())
                    + ", config from etcd " + pc.etcd().hosts() + " prefix " + pc.etcd().prefix());
            out.flush();
            Running running = new Running(server, status, statusAddress, t.drainTimeoutMs(), () -> {
                source.close();
                store.close();
            }, updater, admin, source, keyless, prometheus, prometheus == null ? null : prometheus.address());
            running.watchers = watchers;
            return running;
        }

        /** The prometheus plugin's recorder on every loop (before the listeners accept). */
        static List<PrometheusRecorder> installPrometheus(GatewayServer server, PrometheusAttr attr) {
            List<PrometheusRecorder> recorders = new ArrayList<>();
            double[] buckets = PrometheusExporter.buckets(attr);
            for (LoopContext loop : server.loops()) {
                PrometheusRecorder r = new PrometheusRecorder(loop, buckets, attr.maxSeries());
                loop.addObserver(r);
                r.start();
                recorders.add(r);
            }
            return recorders;
        }

        /** The exporter on {@code plugin_attr.prometheus.export_addr}, or null when its export server is off. */
        static PrometheusExporter startPrometheus(ProcessConfig pc, GatewayServer server,
                                                  List<PrometheusRecorder> recorders, SnapshotUpdater updater,
                                                  PrometheusExporter.EtcdState etcd, AutoCloseable onFailure)
                throws Exception {
            if (!pc.prometheus().exportServer()) {
                return null;
            }
            PrometheusExporter e = new PrometheusExporter(pc.prometheus(), server, recorders, id -> {
                ConfigSet c = updater.current();
                return c == null || c.routes().containsKey(id);
            }, etcd);
            try {
                e.start();
            } catch (RuntimeException | InterruptedException ex) {
                onFailure.close();
                server.close();
                throw ex;
            }
            return e;
        }

        /** The access log's observer on every loop (when on); sizes the log rings for logger plugins either way. */
        private static void installLogs(TurnpikeSettings t, GatewayServer server) {
            io.turnpike.engine.logs.AccessLog log = io.turnpike.engine.logs.AccessLog.open(t.accessLogConfig());
            if (log != null && t.accessLog()) {
                log.install(server.loops());
            }
        }

        /** Writes out the log entries of the exchanges that ended (access log, file-logger, http-logger). */
        private static void flushLogs() {
            io.turnpike.engine.logs.LogWriter.flushIfStarted(5_000);
            io.turnpike.engine.logs.HttpLogSender.awaitIdleIfStarted(5_000); // batches closed by the flush
        }

        static String jsonString(String s) {
            return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }

        private static GatewayServer newServer(ProcessConfig pc, EngineSettings settings) {
            TurnpikeSettings t = pc.turnpike();
            List<InetSocketAddress> listen = new ArrayList<>();
            java.util.Set<InetSocketAddress> h2c = new java.util.HashSet<>();
            for (ListenAddress a : pc.nodeListen()) {
                InetSocketAddress address = new InetSocketAddress(a.ip(), a.port());
                listen.add(address);
                if (a.http2()) {
                    h2c.add(address);
                }
            }
            return new GatewayServer(settings, listen, httpsListen(pc), t.eventLoops(), Transport.select(t.transport()),
                    h2c);
        }

        /** {@code apisix.ssl.listen} when {@code apisix.ssl.enable}; a port's fallback_sni, else the global one. */
        static List<HttpsListen> httpsListen(ProcessConfig pc) {
            List<HttpsListen> out = new ArrayList<>();
            if (!pc.ssl().enable()) {
                return out;
            }
            for (SslListen l : pc.ssl().listen()) {
                out.add(new HttpsListen(new InetSocketAddress(l.ip(), l.port()),
                        l.fallbackSni() != null ? l.fallbackSni() : pc.ssl().fallbackSni()));
            }
            return out;
        }

        /** ALPN offers {@code h2} first when the HTTPS listeners take HTTP/2 ({@code enable_http2}). */
        static TlsDefaults tlsDefaults(ProcessConfig pc) {
            TlsDefaults d = TlsDefaults.defaults();
            // The loader made every listener agree (their contexts, and so ALPN, are shared).
            boolean h2 = !pc.ssl().listen().isEmpty() && pc.ssl().listen().get(0).http2();
            return h2 ? d.withAlpn(List.of("h2", "http/1.1")) : d;
        }

        /** TLS contexts are built only when there is an HTTPS listener to use them. */
        static SnapshotCompiler snapshotCompiler(ProcessConfig pc, EngineSettings settings) {
            return snapshotCompiler(pc, settings, null);
        }

        static SnapshotCompiler snapshotCompiler(ProcessConfig pc, EngineSettings settings, KeylessClients keyless) {
            return httpsListen(pc).isEmpty() ? new SnapshotCompiler(settings)
                    : new SnapshotCompiler(settings, new TlsCompiler(tlsDefaults(pc), keyless,
                    pc.turnpike().keyless().keySet()));
        }

        /**
         * One {@link KeylessClient} per key server of {@code turnpike.keyless}, connecting in the background (a key
         * server that is down does not stop the gateway: its handshakes fail until it is back); null when none.
         */
        static KeylessClients keylessClients(TurnpikeSettings t) throws Exception {
            if (t.keyless().isEmpty()) {
                return null;
            }
            KeylessClients clients = new KeylessClients();
            try {
                for (KeyServerConfig k : t.keyless().values()) {
                    KeylessClient.Builder b = KeylessClient.builder().remote(k.host(), k.port());
                    if (k.serverName() != null) {
                        b.serverName(k.serverName());
                    }
                    try {
                        b.tls(k.cert(), k.key(), k.ca());
                    } catch (Exception e) {
                        throw new IllegalArgumentException("turnpike.keyless." + k.name() + ": cannot build the TLS"
                                + " client identity from " + k.cert() + ", " + k.key() + ", " + k.ca() + ": "
                                + e.getMessage(), e);
                    }
                    clients.register(k.name(), b.start());
                }
            } catch (Exception | Error e) {
                clients.close();
                throw e;
            }
            return clients;
        }

        /** {@code {"<name>": {counters}}} for /status, or null without key servers. */
        static java.util.function.Supplier<String> keylessJson(KeylessClients keyless) {
            if (keyless == null) {
                return null;
            }
            return () -> {
                StringBuilder b = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<String, Map<String, Object>> e : keyless.snapshot().entrySet()) {
                    b.append(first ? "" : ",").append(jsonString(e.getKey())).append(":{");
                    first = false;
                    boolean f2 = true;
                    for (Map.Entry<String, Object> c : e.getValue().entrySet()) {
                        Object v = c.getValue();
                        b.append(f2 ? "" : ",").append(jsonString(c.getKey())).append(':')
                                .append(v instanceof Number || v instanceof Boolean ? v.toString()
                                        : jsonString(String.valueOf(v)));
                        f2 = false;
                    }
                    b.append('}');
                }
                return b.append('}').toString();
            };
        }

        private static void closeQuietly(KeylessClients keyless) {
            if (keyless != null) {
                try {
                    keyless.close();
                } catch (RuntimeException ignored) {
                    // already failing
                }
            }
        }

        /** The drain bound ({@code turnpike.drain_timeout_ms}; a reload may change it). */
        public long drainTimeoutMs() {
            return drainTimeoutMs;
        }

        public void drainTimeoutMs(long ms) {
            drainTimeoutMs = ms;
        }

        public boolean drain() {
            if (admin != null) {
                admin.stop();
            }
            stopConfigSync.run();
            boolean clean = server.drain(drainTimeoutMs);
            flushLogs();
            status.close();
            if (prometheus != null) {
                prometheus.close();
            }
            closeQuietly(keyless);
            io.turnpike.engine.trace.SpanExportAgent.shutdown(tracing);
            if (watchers != null) {
                watchers.close();
            }
            return clean;
        }

        @Override
        public void close() {
            if (admin != null) {
                admin.stop();
            }
            stopConfigSync.run();
            server.close();
            flushLogs();
            status.close();
            if (prometheus != null) {
                prometheus.close();
            }
            closeQuietly(keyless);
            io.turnpike.engine.trace.SpanExportAgent.shutdown(tracing);
            if (watchers != null) {
                watchers.close();
            }
        }
    }

    /**
     * The process's upstream watchers: one DNS resolver ({@code discovery.dns} when configured, else the system's; it
     * resolves {@code service_name}s and node host names) and the health checker, wired to the compiler's endpoint
     * slots ({@link io.turnpike.engine.endpoint.UpstreamWatchers}).
     */
    public static final class Watchers implements AutoCloseable {
        public final io.turnpike.engine.discovery.DnsDiscovery dns;
        public final io.turnpike.engine.health.HealthWiring health;
        public final io.turnpike.engine.endpoint.UpstreamWatchers hooks;

        private Watchers(io.turnpike.engine.discovery.DnsDiscovery dns, io.turnpike.engine.health.HealthWiring health,
                         io.turnpike.engine.endpoint.UpstreamWatchers hooks) {
            this.dns = dns;
            this.health = health;
            this.hooks = hooks;
        }

        static Watchers start(ProcessConfig pc, SnapshotCompiler compiler, PrintStream err) {
            io.turnpike.engine.discovery.DnsDiscovery dns = io.turnpike.engine.discovery.DnsDiscovery.forProcess(pc,
                    err);
            io.turnpike.engine.health.HealthWiring health = new io.turnpike.engine.health.HealthWiring();
            io.turnpike.engine.endpoint.UpstreamWatchers hooks = new io.turnpike.engine.endpoint.UpstreamWatchers(
                    dns.discoveryConfigured() ? dns : null, dns, health);
            compiler.discovery(pc.discovery());
            compiler.endpointHooks(hooks);
            return new Watchers(dns, health, hooks);
        }

        /** Hands them to the control API (refresh, dump, health views). */
        public void attach(io.turnpike.engine.ops.ProcessOperations ops) {
            ops.dnsDiscovery(dns);
            ops.healthChecker(health.checker());
        }

        @Override
        public void close() {
            health.close();
            dns.close();
        }
    }
}
