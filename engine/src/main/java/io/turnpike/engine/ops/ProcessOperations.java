package io.turnpike.engine.ops;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.process.OperationsConfig;
import io.turnpike.config.process.ProcessConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The operations side of one running gateway process: its PID file, its control API, and the config.yaml reloader
 * that SIGHUP runs. Created by {@code turnpike start} once the gateway serves; {@link #close} at exit (the PID file is
 * removed only while it still names this process).
 *
 * <p>Thread-safe: the control server is swapped under this object's lock (by a reload); {@link #close} may run on the
 * drain thread.
 */
public final class ProcessOperations implements AutoCloseable {
    private final long pid = ProcessHandle.current().pid();
    private final Path pidFile;
    private final String prefix;
    private final Supplier<ConfigSet> config;
    private final PrintStream log;
    private final LongConsumer drainTimeout;
    private final ConfigReloader reloader;
    private ControlApiServer control;
    private OperationsConfig controlConfig;
    private io.turnpike.engine.discovery.DnsDiscovery dns;
    private io.turnpike.engine.health.HealthChecker health;

    private ProcessOperations(ProcessConfig pc, boolean configMustExist, Path prefixDir, Supplier<ConfigSet> config,
                              LongConsumer drainTimeout, PrintStream log) {
        this.pidFile = pc.operations().pidFile(prefixDir);
        this.prefix = pc.etcd().prefix();
        this.config = config;
        this.log = log;
        this.drainTimeout = drainTimeout;
        this.reloader = new ConfigReloader(pc.configFile(), configMustExist, pc,
                ConfigReloader.reportFileFor(pidFile), log, this::applyLive);
    }

    /**
     * Writes the PID file and starts the control API when enabled.
     *
     * @param config       the configuration in force (control API views); null without a data plane
     * @param drainTimeout sets the drain bound live ({@code turnpike.drain_timeout_ms}); null: not applicable
     * @throws IOException when the PID file cannot be written, or the control address cannot be bound
     */
    public static ProcessOperations start(ProcessConfig pc, boolean configMustExist, Path prefixDir,
                                          Supplier<ConfigSet> config, LongConsumer drainTimeout, PrintStream log)
            throws IOException, InterruptedException {
        ProcessOperations ops = new ProcessOperations(pc, configMustExist, prefixDir, config, drainTimeout, log);
        try {
            PidFile.write(ops.pidFile, ops.pid);
        } catch (IOException e) {
            throw new IOException("cannot write the PID file " + ops.pidFile + " (turnpike.pid_file): " + e, e);
        }
        try {
            ops.startControl(pc.operations());
        } catch (RuntimeException | InterruptedException e) {
            PidFile.removeIfOwned(ops.pidFile, ops.pid);
            throw new IOException("cannot start the control API on " + pc.operations().control()
                    + " (apisix.control): " + e.getMessage(), e);
        }
        return ops;
    }

    public Path pidFile() {
        return pidFile;
    }

    public ConfigReloader reloader() {
        return reloader;
    }

    /** The health checker the control API's {@code /v1/healthcheck} shows (kept across reloads). */
    public synchronized void healthChecker(io.turnpike.engine.health.HealthChecker h) {
        health = h;
        if (control != null) {
            control.healthChecker(h);
        }
    }

    /** The DNS discovery the control API's {@code /v1/discovery/dns/*} endpoints use (kept across reloads). */
    public synchronized void dnsDiscovery(io.turnpike.engine.discovery.DnsDiscovery d) {
        dns = d;
        if (control != null) {
            control.dnsDiscovery(d);
        }
    }

    /** The control API's bound address; null when disabled. */
    public synchronized InetSocketAddress controlAddress() {
        return control == null ? null : control.localAddress();
    }

    private synchronized void startControl(OperationsConfig ops) throws InterruptedException {
        controlConfig = ops;
        if (ops.enableControl()) {
            ListenAddress a = ops.control();
            ControlApiServer s = new ControlApiServer(config, prefix, reloader::reload);
            s.dnsDiscovery(dns);
            s.healthChecker(health);
            s.start(new InetSocketAddress(a.ip(), a.port()));
            control = s;
        }
    }

    /** Applies the live keys of a valid configuration (under the reloader's lock). */
    private void applyLive(ProcessConfig next) {
        if (drainTimeout != null) {
            drainTimeout.accept(next.turnpike().drainTimeoutMs());
        }
        synchronized (this) {
            OperationsConfig n = next.operations();
            boolean same = n.enableControl() == controlConfig.enableControl()
                    && (!n.enableControl() || n.control().equals(controlConfig.control()));
            if (same) {
                controlConfig = n;
                return;
            }
            ControlApiServer old = control;
            // The new listener first: a bind that fails leaves the old one serving.
            ControlApiServer s = null;
            if (n.enableControl()) {
                s = new ControlApiServer(config, prefix, reloader::reload);
                s.dnsDiscovery(dns);
                s.healthChecker(health);
            s.healthChecker(health);
                try {
                    s.start(new InetSocketAddress(n.control().ip(), n.control().port()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                } catch (RuntimeException e) {
                    throw new IllegalStateException("cannot bind the control API on " + n.control() + ": "
                            + e.getMessage(), e);
                }
            }
            control = s;
            controlConfig = n;
            if (old != null) {
                // Not on the control thread itself (PUT /v1/plugins/reload runs there): close from another thread.
                new Thread(old::close, "turnpike-control-close").start();
            }
            log.println("turnpike: control API " + (s == null ? "stopped" : "on " + s.localAddress()));
        }
    }

    @Override
    public void close() {
        ControlApiServer c;
        synchronized (this) {
            c = control;
            control = null;
        }
        if (c != null) {
            c.close();
        }
        PidFile.removeIfOwned(pidFile, pid);
    }
}
