package io.turnpike.engine;

import io.netty.channel.epoll.Epoll;
import io.netty.util.Version;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.config.process.TurnpikeSettings;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.server.GatewayServer;
import io.turnpike.engine.server.Transport;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.snapshot.SnapshotUpdater;
import io.turnpike.config.source.StandaloneFileSource;
import io.turnpike.config.source.StandaloneFileWatcher;
import io.turnpike.engine.status.StatusServer;
import io.turnpike.tls.BoringSsl;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The {@code turnpike} command line: {@code start [-c conf/config.yaml]}, {@code validate [-c config.yaml]
 * [apisix.yaml]}, {@code version}. Exit codes: 0 success, 1 invalid configuration, 2 usage error, 3 start failure.
 */
public final class TurnpikeMain {
    static final String DEFAULT_CONFIG = "conf/config.yaml";

    private TurnpikeMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return 2;
        }
        String cmd = args[0];
        String configPath = null;
        List<String> positional = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-c") || a.equals("--config")) {
                if (i + 1 >= args.length) {
                    err.println("turnpike: " + a + " needs a file");
                    return 2;
                }
                configPath = args[++i];
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
                case "start" -> start(configPath, out, err);
                case "validate" -> validate(configPath, positional, out, err);
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
        s.println("usage: turnpike start [-c conf/config.yaml]    start the gateway");
        s.println("       turnpike validate [-c conf/config.yaml] [conf/apisix.yaml]");
        s.println("                                                check the process config and the standalone file");
        s.println("       turnpike version                         print versions and native library status");
    }

    static int version(PrintStream out) {
        out.println("turnpike " + io.turnpike.engine.Version.VERSION);
        out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        Version netty = Version.identify().get("netty-transport");
        out.println("netty " + (netty == null ? "unknown" : netty.artifactVersion()));
        out.println("transport epoll: " + (Epoll.isAvailable() ? "available" : "unavailable (" + Epoll.unavailabilityCause() + ")"));
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
                t.upstreamPoolSize(), TimeUnit.MILLISECONDS.toNanos(t.upstreamIdleTimeoutMs()),
                t.upstreamMaxRequests(), t.drainTimeoutMs(), 65536);
    }

    static int start(String configPath, PrintStream out, PrintStream err) throws Exception {
        ProcessConfigResult pr = loadProcessConfig(configPath);
        if (!report(pr, err)) {
            return 1;
        }
        ProcessConfig pc = pr.config();
        if (!pc.standalone()) {
            err.println("error: config_provider etcd is not available in this build yet; use "
                    + "deployment.role: data_plane with role_data_plane.config_provider: yaml");
            return 1;
        }
        Path standalone = pc.turnpike().standaloneFile();
        if (!Files.exists(standalone)) {
            err.println("error: standalone file " + standalone + " does not exist");
            return 1;
        }
        LoadResult lr = StandaloneFileLoader.load(standalone);
        if (!lr.ok()) {
            err.print(lr.render());
            err.println("error: " + standalone + " refused, " + lr.problems().size() + " problem(s)");
            return 1;
        }
        Running running = Running.start(pc, lr, out, err);
        CountDownLatch stopped = new CountDownLatch(1);
        int[] exit = {0};
        Runnable drain = () -> {
            out.println("turnpike: draining (up to " + pc.turnpike().drainTimeoutMs() + " ms)");
            boolean clean = running.drain();
            out.println("turnpike: stopped" + (clean ? "" : " (drain timeout, remaining connections closed)"));
            stopped.countDown();
        };
        Signals.onTermination(() -> new Thread(drain, "turnpike-drain").start());
        stopped.await();
        out.flush();
        return exit[0];
    }

    /** A started gateway: data plane plus status listener. Used by the CLI and by integration tests. */
    public static final class Running implements AutoCloseable {
        public final GatewayServer server;
        public final StatusServer status;
        public final InetSocketAddress statusAddress;
        public final SnapshotUpdater updater;
        private final long drainTimeoutMs;
        private final StandaloneFileWatcher watcher;

        private Running(GatewayServer server, StatusServer status, InetSocketAddress statusAddress, long drainTimeoutMs,
                        StandaloneFileWatcher watcher, SnapshotUpdater updater) {
            this.server = server;
            this.status = status;
            this.statusAddress = statusAddress;
            this.drainTimeoutMs = drainTimeoutMs;
            this.watcher = watcher;
            this.updater = updater;
        }

        /**
         * Starts the data plane on an already validated first load of the standalone file, then watches the file:
         * later changes are compiled on the config-sync thread and published to every loop.
         */
        public static Running start(ProcessConfig pc, LoadResult config, PrintStream out, PrintStream err)
                throws Exception {
            TurnpikeSettings t = pc.turnpike();
            EngineSettings settings = engineSettings(t);
            Transport transport = Transport.select(t.transport());
            List<InetSocketAddress> listen = new ArrayList<>();
            for (ListenAddress a : pc.nodeListen()) {
                listen.add(new InetSocketAddress(a.ip(), a.port()));
            }
            GatewayServer server = new GatewayServer(settings, listen, t.eventLoops(), transport);
            SnapshotUpdater updater = new SnapshotUpdater(new SnapshotCompiler(settings), server.publisher(), err);
            updater.onConfig(config.config());
            server.start();
            StatusServer status = new StatusServer(server);
            InetSocketAddress statusAddress = status.start(
                    new InetSocketAddress(t.statusListen().ip(), t.statusListen().port()));
            // The file was loaded once above; from here on the config-sync thread delivers changes.
            StandaloneFileSource source = new StandaloneFileSource(t.standaloneFile());
            StandaloneFileWatcher watcher = new StandaloneFileWatcher(source, StandaloneFileWatcher.DEFAULT_POLL_INTERVAL_MS);
            source.attach(updater);
            watcher.start();
            Snapshot snapshot = server.publisher().latest();
            out.println("turnpike " + io.turnpike.engine.Version.VERSION + " started: " + server.loops().size()
                    + " event loops (" + transport.name().toLowerCase() + "), http " + server.boundAddresses()
                    + ", status " + statusAddress + ", " + snapshot.routes.size() + " routes from "
                    + t.standaloneFile() + " (watched)");
            out.flush();
            return new Running(server, status, statusAddress, t.drainTimeoutMs(), watcher, updater);
        }

        public boolean drain() {
            watcher.close();
            boolean clean = server.drain(drainTimeoutMs);
            status.close();
            return clean;
        }

        @Override
        public void close() {
            watcher.close();
            server.close();
            status.close();
        }
    }
}
